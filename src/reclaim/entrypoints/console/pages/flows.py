"""Flows (SPEC S3, S11): each case kind's active flow as a table of its steps, edited step by
step (delay, channel, template, conditions, incentive) or as its YAML source, checked as
``reclaim flows set`` checks it; every version with who saved it, a diff against the active
one, and a rollback. Nothing is saved on an error, which is shown next to its field."""

from __future__ import annotations

import re
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from reclaim.bootstrap import read_flow
from reclaim.domain.flows import MAX_STEPS, Audience, Flow, Step, format_duration
from reclaim.domain.messages import Channel
from reclaim.entrypoints.console.auth import Reader, Who, Worker, rt_of
from reclaim.entrypoints.console.render import page
from reclaim.errors import InvalidInput, NotFound
from reclaim.services.flow_versions import (
    diff_lines,
    flow_overview,
    get_flow_version,
    kinds,
    rollback_flow,
)
from reclaim.services.flows import set_flow

router = APIRouter(include_in_schema=False)

# A step's form fields: (form name, path under ``steps[i]`` in the validator's ``field``).
STEP_FIELDS = (
    ("after", "after"),
    ("channel", "channel"),
    ("fallback", "fallback"),
    ("template", "template"),
    ("countries", "conditions.countries"),
    ("min_value", "conditions.min_value"),
    ("max_value", "conditions.max_value"),
    ("customer", "conditions.customer"),
    ("incentive_type", "incentive.type"),
    ("incentive_value", "incentive.value"),
    ("incentive_expires", "incentive.expires_in"),
)
_PATH = re.compile(r"^steps\[(\d+)\]\.?(.*)$")
_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def pick_store(who: Who, store: str) -> str | None:
    """The store a page shows: ``store`` if the user sees it (404 otherwise), else their
    first; None when they see none."""
    if store:
        return who.store(store).id
    return who.store_ids[0] if who.stores else None


def step_form(step: Step) -> dict[str, str]:
    """A step's values as the step form shows them."""
    c, incentive = step.conditions, step.incentive
    return {
        "after": format_duration(step.after),
        "channel": step.channel.value,
        "fallback": "" if step.fallback is None else step.fallback.value,
        "template": step.template,
        "countries": ", ".join(sorted(c.countries)),
        "min_value": "" if c.min_value is None else str(c.min_value),
        "max_value": "" if c.max_value is None else str(c.max_value),
        "customer": c.audience.value,
        "incentive_type": "" if incentive is None else str(incentive.kind),
        "incentive_value": "" if incentive is None else str(incentive.value),
        "incentive_expires": "" if incentive is None else format_duration(incentive.expires_in),
    }


def step_conditions(step: Step) -> list[tuple[str, str]]:
    """A step's conditions as (words key, value) pairs for the steps table."""
    c = step.conditions
    found: list[tuple[str, str]] = []
    if c.min_value is not None:
        found.append(("flows.cond.min_value", str(c.min_value)))
    if c.max_value is not None:
        found.append(("flows.cond.max_value", str(c.max_value)))
    if c.countries:
        found.append(("flows.cond.countries", ", ".join(sorted(c.countries))))
    if c.exclude_countries:
        found.append(("flows.cond.exclude_countries", ", ".join(sorted(c.exclude_countries))))
    if c.audience is not Audience.ANY:
        found.append(("flows.cond.customer", c.audience.value))
    if c.reasons:
        found.append(("flows.cond.reasons", ", ".join(sorted(c.reasons))))
    if c.exclude_reasons:
        found.append(("flows.cond.exclude_reasons", ", ".join(sorted(c.exclude_reasons))))
    if c.score_bands:
        found.append(("flows.cond.score_bands", ", ".join(sorted(c.score_bands))))
    return found


def source_line(source: str, field: str | None) -> int | None:
    """The line of the YAML ``source`` that the validator's ``field`` (``steps[2].after``)
    names, where it can be found."""
    if not field:
        return None
    try:
        node: Any = yaml.compose(source)
    except yaml.YAMLError:
        return None
    line = None
    for name, index in _TOKEN.findall(field):
        if isinstance(node, yaml.MappingNode) and name:
            hit = next(((k, v) for k, v in node.value if k.value == name), None)
            if hit is None:
                break
            line, node = hit[0].start_mark.line + 1, hit[1]
        elif isinstance(node, yaml.SequenceNode) and index and int(index) < len(node.value):
            node = node.value[int(index)]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _flow_from(text: str, kind: str) -> Flow:
    flow = read_flow(text)
    if flow.kind.value != kind:
        raise InvalidInput(f"this flow is for {flow.kind.value}, not {kind}", field="kind")
    return flow


def _editor(
    request: Request,
    who: Who,
    store_id: str,
    kind: str,
    *,
    source: str | None = None,
    steps: list[dict[str, str]] | None = None,
    error: InvalidInput | None = None,
    where: str = "",
) -> HTMLResponse:
    """The edit page; on an error, what was sent kept and the error beside its field:
    ``where`` is ``steps`` (the step form) or ``source`` (the YAML)."""
    rt = rt_of(request)
    overview = {
        k.kind: k
        for k in flow_overview(uow=rt.reader(), store_id=store_id, defaults=rt.flow_defaults)
    }
    current = overview[kind]
    flow = current.active.flow if current.active else rt.flow_defaults(kind)[1]
    errors: dict[str, str] = {}
    step_of: int | None = None
    if error is not None and where == "steps" and error.field:
        m = _PATH.match(error.field)
        if m:
            step_of = int(m.group(1))
            name = next((n for n, p in STEP_FIELDS if p == m.group(2)), "")
            errors[f"s{step_of}_{name}" if name else f"s{step_of}"] = str(error)
    if error is not None and not errors:
        errors[where or "source"] = str(error)
    return page(
        request,
        who,
        "flows/edit.html",
        {
            "store_id": store_id,
            "kind": kind,
            "flow": flow,
            "version": current.active,
            "source": current.source if source is None else source,
            "steps": steps if steps is not None else [step_form(s) for s in flow.steps],
            "errors": errors,
            "error_field": None if error is None else error.field,
            "error_line": None
            if where != "source" or error is None
            else source_line(source or "", error.field),
            "channels": [c.value for c in Channel],
            "audiences": [a.value for a in Audience],
        },
        status_code=422 if error is not None else 200,
        section="flows",
    )


@router.get("/console/flows")
def flows_page(request: Request, who: Reader, store: str = "", done: str = "") -> HTMLResponse:
    rt = rt_of(request)
    store_id = pick_store(who, store)
    overview = (
        []
        if store_id is None
        else flow_overview(uow=rt.reader(), store_id=store_id, defaults=rt.flow_defaults)
    )
    shown = [(k, k.active.flow if k.active else rt.flow_defaults(k.kind)[1]) for k in overview]
    return page(
        request,
        who,
        "flows/index.html",
        {
            "store_id": store_id,
            "kinds": shown,
            "conditions": step_conditions,
            "duration": format_duration,
            "done": done if done in ("flows.saved", "flows.rolled_back") else "",
        },
        section="flows",
    )


@router.get("/console/flows/edit")
def edit_page(request: Request, who: Worker, store: str = "", kind: str = "") -> HTMLResponse:
    store_id = pick_store(who, store)
    if store_id is None or kind not in kinds():
        raise NotFound("no such flow")
    return _editor(request, who, store_id, kind)


def _saved(store_id: str, kind: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/console/flows?store={store_id}&done={done}#{kind}", 303)


def _save(request: Request, who: Who, store_id: str, text: str, flow: Flow) -> None:
    rt = rt_of(request)
    set_flow(
        uow=rt.uow(),
        store_id=store_id,
        source=text,
        flow=flow,
        now=rt.clock(),
        actor=who.actor(rt),
    )


@router.post("/console/flows/source")
async def save_source(
    request: Request,
    who: Worker,
    store: Annotated[str, Form(max_length=64)] = "",
    kind: Annotated[str, Form(max_length=40)] = "",
    source: Annotated[str, Form(max_length=70_000)] = "",
) -> Response:
    """The YAML source saved as the new active version, once it passes the checks."""
    store_id = who.store(store).id
    if kind not in kinds():
        raise NotFound("no such flow")
    try:
        flow = _flow_from(source, kind)
        await run_in_threadpool(_save, request, who, store_id, source, flow)
    except InvalidInput as exc:
        return await run_in_threadpool(
            _editor, request, who, store_id, kind, source=source, error=exc, where="source"
        )
    return _saved(store_id, kind, "flows.saved")


def _split(value: str) -> list[str]:
    return [v for v in re.split(r"[\s,;]+", value.strip()) if v]


def apply_steps(source: str, steps: list[dict[str, str]]) -> str:
    """``source`` with each step's form values written in (YAML; its comments are lost)."""
    data = yaml.safe_load(source)
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
        raise InvalidInput("the flow's source has no steps", field="steps")
    for raw, form in zip(data["steps"], steps, strict=False):
        if not isinstance(raw, dict):
            continue
        for name in ("after", "channel", "template"):
            raw[name] = form[name].strip()
        if form["fallback"]:
            raw["fallback"] = form["fallback"]
        else:
            raw.pop("fallback", None)
        cond = dict(raw.get("conditions") or {})
        for name, value in (
            ("countries", _split(form["countries"])),
            ("min_value", form["min_value"].strip()),
            ("max_value", form["max_value"].strip()),
            ("customer", "" if form["customer"] == "any" else form["customer"]),
        ):
            if value:
                cond[name] = value
            else:
                cond.pop(name, None)
        if cond:
            raw["conditions"] = cond
        else:
            raw.pop("conditions", None)
        if form["incentive_type"]:
            incentive = dict(raw.get("incentive") or {})
            incentive["type"] = form["incentive_type"]
            incentive["value"] = form["incentive_value"].strip() or "0"
            incentive["expires_in"] = form["incentive_expires"].strip() or "48h"
            raw["incentive"] = incentive
        else:
            raw.pop("incentive", None)
    text: str = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return text


@router.post("/console/flows/steps")
async def save_steps(request: Request, who: Worker) -> Response:
    """The step form saved: each step's fields written into the active source."""
    form = await request.form()
    store_id = who.store(str(form.get("store", ""))[:64]).id
    kind = str(form.get("kind", ""))
    if kind not in kinds():
        raise NotFound("no such flow")
    raw_count = str(form.get("count", ""))
    count = min(int(raw_count), MAX_STEPS) if raw_count.isdigit() else 0
    steps = [
        {name: str(form.get(f"s{i}_{name}", ""))[:400] for name, _ in STEP_FIELDS}
        for i in range(count)
    ]
    rt = rt_of(request)
    current = next(
        k
        for k in flow_overview(uow=rt.reader(), store_id=store_id, defaults=rt.flow_defaults)
        if k.kind == kind
    )
    try:
        text = apply_steps(current.source, steps)
        flow = _flow_from(text, kind)
        await run_in_threadpool(_save, request, who, store_id, text, flow)
    except InvalidInput as exc:
        return await run_in_threadpool(
            _editor, request, who, store_id, kind, steps=steps, error=exc, where="steps"
        )
    return _saved(store_id, kind, "flows.saved")


@router.get("/console/flows/diff")
def diff_page(request: Request, who: Reader, store: str = "", id: int = 0) -> HTMLResponse:
    """Version ``id`` against the active version of its kind."""
    rt = rt_of(request)
    store_id = who.store(store).id
    old = get_flow_version(uow=rt.reader(), store_id=store_id, flow_id=id)
    current = next(
        k
        for k in flow_overview(uow=rt.reader(), store_id=store_id, defaults=rt.flow_defaults)
        if k.kind == old.kind
    )
    return page(
        request,
        who,
        "flows/diff.html",
        {
            "store_id": store_id,
            "old": old,
            "active": current.active,
            "lines": diff_lines(old.source, current.source),
        },
        section="flows",
    )


@router.post("/console/flows/rollback")
async def rollback(
    request: Request,
    who: Worker,
    store: Annotated[str, Form(max_length=64)] = "",
    id: Annotated[int, Form()] = 0,
) -> Response:
    """Version ``id``'s source saved again as the active version."""
    rt = rt_of(request)
    store_id = who.store(store).id
    old = await run_in_threadpool(get_flow_version, uow=rt.reader(), store_id=store_id, flow_id=id)
    await run_in_threadpool(
        rollback_flow,
        uow=rt.uow(),
        store_id=store_id,
        flow_id=id,
        now=rt.clock(),
        actor=who.actor(rt),
    )
    return _saved(store_id, old.kind, "flows.rolled_back")
