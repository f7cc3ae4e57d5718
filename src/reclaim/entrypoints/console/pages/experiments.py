"""Experiments (SPEC S12, docs/experiments.md): a store's A/B/n tests as
``reclaim experiment status`` shows them (:mod:`reclaim.services.experiment_view`: variants,
sample sizes, the always-valid test, the split check, the decision and its evidence), and
the forms that start and stop one (operators and admins; in the audit log as
``console:<email>``).

The start form asks what the CLI and the API ask: a name, the case kind, the step to vary
(empty: whole flows) and the variants, the first the control, each a key, a weight, a flow
version (of whole flows) and its changes in the CLI's words (``after=3h``,
``incentive.value=15``, ``incentive=none``), read by the CLI's own grammar
(:func:`reclaim.domain.variants.parse_variant`, which ``reclaim experiment start --variant``
reads with). A refusal comes back as the form, the field marked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from reclaim.domain.cases import CaseKind
from reclaim.domain.experiments import SRM_ALPHA
from reclaim.domain.variants import MAX_VARIANTS, VariantSpec, parse_variant
from reclaim.entrypoints.console.auth import Reader, Who, Worker, rt_of
from reclaim.entrypoints.console.render import page
from reclaim.entrypoints.edge import MAX_INT
from reclaim.errors import Conflict, InvalidInput
from reclaim.services import experiments as service
from reclaim.services.experiment_view import experiment_json

router = APIRouter(include_in_schema=False)

KINDS = tuple(k.value for k in CaseKind)
ROWS = 4  # variant rows the form shows (``?rows=8`` for more)
_ROW = re.compile(r"^variants\[(\d+)\]\.(\w+)")
_PART = {"key": "key", "weight": "weight", "flow_version": "flow", "overrides": "changes"}


@dataclass
class Form:
    """The start form as sent (kept to show it back) and its faults: field -> words key."""

    name: str = ""
    kind: str = ""
    step: str = ""
    rows: list[dict[str, str]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    detail: str = ""  # the service's own words (English), beside the translated lead

    @classmethod
    def blank(cls, rows: int = ROWS) -> Form:
        return cls(
            rows=[{"key": "", "weight": "1", "flow": "", "changes": ""} for _ in range(rows)]
        )


def _specs(form: Form) -> list[VariantSpec]:
    """The filled rows as variants, read by the CLI's grammar (``KEY:WEIGHT=FIELD=VALUE,…``)."""
    specs = []
    for i, row in enumerate(form.rows):
        key, changes, flow = row["key"].strip(), row["changes"].strip(), row["flow"].strip()
        if not (key or changes or flow):
            continue
        weight = row["weight"].strip() or "1"
        if not weight.isdigit():
            form.errors[f"v{i}.weight"] = "experiments.bad.weight"
            continue
        if flow and not flow.removeprefix("v").isdigit():
            form.errors[f"v{i}.flow"] = "experiments.bad.flow"
            continue
        parts = ",".join(p for p in (changes, f"flow={flow}" if flow else "") if p)
        text = f"{key}:{weight}" + (f"={parts}" if parts else "")
        try:
            specs.append(parse_variant(text))
        except InvalidInput as exc:
            form.errors[f"v{i}.changes"] = "experiments.bad.changes"
            form.detail = str(exc)
    return specs


def _place(form: Form, exc: InvalidInput, filled: list[int]) -> None:
    """The service's fault on the form's field: ``variants[1].overrides.after`` is the second
    filled row's changes."""
    where = exc.field or ""
    found = _ROW.match(where)
    if found is not None:
        index = int(found.group(1))
        row = filled[index] if index < len(filled) else 0
        part = _PART.get(found.group(2), "changes")
        form.errors[f"v{row}.{part}"] = f"experiments.bad.{part}"
    elif where in ("name", "kind", "step"):
        form.errors[where] = f"experiments.bad.{where}"
    else:
        form.errors["variants"] = "experiments.bad.variants"
    form.detail = str(exc)


def _start(request: Request, who: Who, store_id: str, form: Form) -> int | None:
    """Start the experiment the form asks for; its id, or None with the form's faults set."""
    rt = rt_of(request)
    specs = _specs(form)
    if form.errors:
        return None
    filled = [
        i
        for i, r in enumerate(form.rows)
        if r["key"].strip() or r["changes"].strip() or r["flow"].strip()
    ]
    try:
        view = service.start_experiment(
            uow=rt.uow(),
            store_id=store_id,
            name=form.name,
            kind=form.kind,
            step=form.step.strip() or None,
            variants=specs,
            defaults=rt.flow_defaults,
            now=rt.clock(),
            actor=who.actor(rt),
        )
    except InvalidInput as exc:
        _place(form, exc, filled)
        return None
    except Conflict as exc:
        taken = "named" in str(exc)
        form.errors["name" if taken else "kind"] = (
            "experiments.bad.name_taken" if taken else "experiments.bad.kind_running"
        )
        form.detail = str(exc)
        return None
    return view.experiment.id


def _views(request: Request, store_id: str) -> list[dict[str, Any]]:
    rt = rt_of(request)
    views = service.experiment_status(uow=rt.reader(), store_id=store_id, now=rt.clock())
    return [experiment_json(v) for v in views]


def _when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _page(
    request: Request, who: Who, store_id: str, form: Form, *, status: int = 200, done: str = ""
) -> HTMLResponse:
    shown = _views(request, store_id)
    ctx = {
        "started": {e["id"]: _when(e["started_at"]) for e in shown},
        "stopped": {e["id"]: _when(e["stopped_at"]) for e in shown},
        "store": who.store(store_id),
        "experiments": shown,
        "form": form,
        "kinds": KINDS,
        "srm_alpha": SRM_ALPHA,
        "done": done if done in ("experiments.started", "experiments.stopped") else "",
        "max_variants": MAX_VARIANTS,
    }
    return page(
        request, who, "experiments/index.html", ctx, status_code=status, section="experiments"
    )


@router.get("/console/experiments")
async def experiments(
    request: Request,
    who: Reader,
    store: Annotated[str, Query(max_length=40)] = "",
    done: Annotated[str, Query(max_length=40)] = "",
    rows: Annotated[int, Query(ge=1, le=MAX_VARIANTS)] = ROWS,
) -> HTMLResponse:
    if not who.stores:
        return page(request, who, "dashboard/none.html", section="experiments")
    store_id = who.store(store).id if store else who.stores[0].id
    return await run_in_threadpool(_page, request, who, store_id, Form.blank(rows), done=done)


def _read_form(data: Any) -> Form:
    def text(name: str, limit: int = 200) -> str:
        value = data.get(name, "")
        return value[:limit] if isinstance(value, str) else ""

    rows = []
    for i in range(MAX_VARIANTS):
        if f"v{i}_key" not in data:
            break
        rows.append({p: text(f"v{i}_{p}") for p in ("key", "weight", "flow", "changes")})
    return Form(name=text("name", 200), kind=text("kind", 40), step=text("step", 40), rows=rows)


@router.post("/console/experiments/start")
async def start(request: Request, who: Worker) -> Response:
    data = await request.form()
    store_value = data.get("store", "")
    store_id = who.store(store_value if isinstance(store_value, str) else "").id
    form = _read_form(data)
    if not form.rows:
        form.rows = Form.blank().rows
    made = await run_in_threadpool(_start, request, who, store_id, form)
    if made is None:
        return await run_in_threadpool(_page, request, who, store_id, form, status=422)
    query = urlencode({"store": store_id, "done": "experiments.started"})
    return RedirectResponse(f"/console/experiments?{query}#experiment-{made}", status_code=303)


@router.post("/console/experiments/{experiment_id}/stop")
async def stop(
    request: Request, who: Worker, experiment_id: Annotated[int, Path(ge=1, le=MAX_INT)]
) -> Response:
    data = await request.form()
    store_value = data.get("store", "")
    store_id = who.store(store_value if isinstance(store_value, str) else "").id
    rt = rt_of(request)
    await run_in_threadpool(
        service.stop_experiment,
        uow=rt.uow(),
        store_id=store_id,
        experiment_id=experiment_id,
        now=rt.clock(),
        actor=who.actor(rt),
    )
    query = urlencode({"store": store_id, "done": "experiments.stopped"})
    return RedirectResponse(
        f"/console/experiments?{query}#experiment-{experiment_id}", status_code=303
    )
