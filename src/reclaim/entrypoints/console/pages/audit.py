"""The audit log (SPEC S11, S13), for admins: every change made through the console, the CLI
or the API, newest first, a page at a time (keyset: ``?before=`` the last entry's id), with
who made it, when (in the admin's time zone), what and on what, and the change as a readable
before → after of each field. Secrets read ``***`` (they were masked when recorded)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from reclaim.domain.audit import AuditEntry
from reclaim.entrypoints.console.auth import Admin, rt_of
from reclaim.entrypoints.console.render import page
from reclaim.entrypoints.edge import MAX_INT
from reclaim.services.audit import list_entries

router = APIRouter(include_in_schema=False)

PAGE = 50


@dataclass(frozen=True, slots=True)
class Change:
    """One field of an entry: what it was and what it became (``None``: absent)."""

    field: str
    before: str | None
    after: str | None


def shown(value: Any) -> str:
    """A JSON value as a reader sees it: text as it is, the rest as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def changes(entry: AuditEntry) -> list[Change]:
    """The entry's fields, in the order first recorded, each before → after; a field that
    did not change (both sides the same) is left out of a change but kept where an entry
    records a state (only ``after``, or only ``before``)."""
    old, new = entry.before or {}, entry.after or {}
    found = []
    for name in dict.fromkeys([*old, *new]):
        a = shown(old[name]) if name in old else None
        b = shown(new[name]) if name in new else None
        if name in old and name in new and a == b:
            continue
        found.append(Change(name, a, b))
    return found


@router.get("/console/audit")
async def audit(
    request: Request,
    who: Admin,
    store: Annotated[str, Query(max_length=40)] = "",
    before: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
) -> HTMLResponse:
    store_id = who.store(store).id if store else None
    rt = rt_of(request)
    entries = await run_in_threadpool(
        list_entries, uow=rt.reader(), store_id=store_id, limit=PAGE + 1, before_id=before
    )
    more = len(entries) > PAGE
    entries = list(entries[:PAGE])
    names = {s.id: s.name for s in who.stores}
    later = None
    if more and entries[-1].id is not None:
        later = urlencode({k: v for k, v in (("store", store_id), ("before", entries[-1].id)) if v})
    ctx = {
        "rows": [(e, changes(e)) for e in entries],
        "store_id": store_id or "",
        "names": names,
        "older": later,
        "first": urlencode({"store": store_id}) if store_id else "",
        "paged": before is not None,
    }
    return page(request, who, "audit/index.html", ctx, section="audit")
