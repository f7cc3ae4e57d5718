"""The follow-up queue (SPEC S11): the open cases of the user's stores ranked by priority
(:mod:`reclaim.domain.priority`, computed in the database), 50 a page, the score taken apart
beside each rank, filters, the customer's phone and clock for a call, and the row actions
(posted to the case's ``/act``, back here)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from reclaim.domain.cases import CaseKind
from reclaim.domain.priority import NOBODY, REASON_POINTS, QueueQuery
from reclaim.entrypoints.console.auth import Reader, rt_of
from reclaim.entrypoints.console.pages.cases import ACTIONS, OUTCOMES, call, labeller
from reclaim.entrypoints.console.render import page
from reclaim.entrypoints.console.words import Words
from reclaim.services import case_view

router = APIRouter(include_in_schema=False)

FILTERS = (
    "store",
    "kind",
    "country",
    "currency",
    "value_min",
    "value_max",
    "age",
    "reason",
    "assignee",
)
KINDS = tuple(k.value for k in CaseKind)
REASONS = tuple(sorted(REASON_POINTS))
ASSIGNEES = ("me", "nobody")
MAX_AGE_HOURS = 24 * 365


def _amount(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() and 0 <= value < Decimal(10) ** 12 else None


def parse(
    values: dict[str, str], *, store_ids: tuple[str, ...], me: int | None, words: Words
) -> tuple[QueueQuery, dict[str, str]]:
    """The query the filter form asks for, and the errors of the fields it cannot use (in
    the user's words)."""
    errors: dict[str, str] = {}
    kw: dict[str, object] = {}
    if values["store"]:
        if values["store"] not in store_ids:  # checked by the caller too (404)
            errors["store"] = words.t("queue.error.store")
        else:
            store_ids = (values["store"],)
    if values["kind"]:
        if values["kind"] in KINDS:
            kw["kind"] = values["kind"]
        else:
            errors["kind"] = words.t("queue.error.choice")
    for name in ("country", "currency"):
        text = values[name].strip().upper()
        size = 2 if name == "country" else 3
        if text:
            if len(text) == size and text.isascii() and text.isalpha():
                kw[name] = text
            else:
                errors[name] = words.t(f"queue.error.{name}")
    for name in ("value_min", "value_max"):
        if values[name].strip():
            amount = _amount(values[name])
            if amount is None:
                errors[name] = words.t("queue.error.amount")
            else:
                kw[name] = amount
    if values["age"].strip():
        text = values["age"].strip()
        if text.isdigit() and int(text) <= MAX_AGE_HOURS:
            kw["older_than"] = timedelta(hours=int(text))
        else:
            errors["age"] = words.t("queue.error.age", n=MAX_AGE_HOURS)
    if values["reason"]:
        if values["reason"] in REASONS:
            kw["reason"] = values["reason"]
        else:
            errors["reason"] = words.t("queue.error.choice")
    if values["assignee"] == "me":
        kw["assignee"] = me if me is not None else NOBODY
    elif values["assignee"] == "nobody":
        kw["assignee"] = NOBODY
    elif values["assignee"]:
        errors["assignee"] = words.t("queue.error.choice")
    return QueueQuery(store_ids=store_ids, **kw), errors  # type: ignore[arg-type]


@router.get("/console/queue")
async def queue_page(request: Request, who: Reader, done: str = "") -> Response:
    rt = rt_of(request)
    words = Words(who.user.locale)
    params = request.query_params
    values = {name: params.get(name, "")[:64] for name in FILTERS}
    if values["store"]:
        who.store(values["store"])  # 404 for a store the user does not see
    query, errors = parse(values, store_ids=who.store_ids, me=who.user.id, words=words)
    page_no = 1
    if "page" in params:
        raw = params["page"]
        page_no = int(raw) if raw.isdigit() and len(raw) < 6 else 0
    if page_no < 1 or (page_no - 1) * case_view.PAGE > case_view.MAX_OFFSET:
        errors["page"] = words.t("queue.error.page")
        page_no = 1
    result = None
    if not errors:
        result = await call(
            case_view.queue,
            uow=rt.reader(),
            stores=who.stores,
            query=query,
            now=rt.clock(),
            page=page_no,
        )
    kept = {k: v for k, v in values.items() if v}
    link = request.url.path + "?" + urlencode(kept)
    return page(
        request,
        who,
        "queue/queue.html",
        {
            "result": result,
            "values": values,
            "errors": errors,
            "kinds": KINDS,
            "reasons": REASONS,
            "assignees": ASSIGNEES,
            "outcomes": OUTCOMES,
            "done": done if done in ACTIONS else "",
            "here": link,
            "page_link": lambda n: request.url.path + "?" + urlencode({**kept, "page": n}),
            "stores": {s.id: s for s in who.stores},
            "label": labeller(words),
        },
        section="queue",
        status_code=422 if errors else 200,
    )
