"""A store's flows as the console shows them (SPEC S3, S11): per case kind the active version
(or the default, until the store's first case or save makes it version 1), every version
with who saved it (the audit log) and when, a diff of two versions' YAML, and a rollback (an
old version's source saved again as the new active version, audited). Versions that only an
experiment's variant runs (inactive, ``services.experiments``) are listed, never activated
by anything here but a rollback an operator asks for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reclaim.domain.audit import Actor
from reclaim.domain.cases import CaseKind
from reclaim.errors import NotFound
from reclaim.services.audit import MAX_PAGE, record
from reclaim.services.flows import FlowDefaults, save_flow
from reclaim.services.ports import FlowVersion, UnitOfWork
from reclaim.services.template_versions import DiffLine, diff_lines

__all__ = ["DiffLine", "KindFlows", "diff_lines", "flow_overview", "rollback_flow"]

FLOW_ACTIONS = ("flow.set", "flow.rollback")


@dataclass(frozen=True, slots=True)
class KindFlows:
    """One case kind's flow: the active version (None: the default runs, not yet saved),
    the source shown, every version newest first, and who saved each (by version number)."""

    kind: str
    active: FlowVersion | None
    source: str
    versions: tuple[FlowVersion, ...]
    saved_by: dict[int, str]


def kinds() -> list[str]:
    return [k.value for k in CaseKind]


def flow_overview(*, uow: UnitOfWork, store_id: str, defaults: FlowDefaults) -> list[KindFlows]:
    """Every case kind's flow in the store (reads only: the default is not saved here)."""
    with uow:
        versions = list(uow.flows.list(store_id))
        entries = uow.audit.list(store_id=store_id, limit=MAX_PAGE)
    who: dict[tuple[str, int], str] = {}
    for entry in reversed(list(entries)):  # oldest first: a later entry wins
        version = (entry.after or {}).get("version")
        if entry.action in FLOW_ACTIONS and isinstance(version, int):
            who[(entry.subject, version)] = entry.actor
    found: list[KindFlows] = []
    for kind in kinds():
        mine = tuple(v for v in versions if v.kind == kind)
        active = next((v for v in mine if v.active), None)
        source = active.source if active is not None else defaults(kind)[0]
        saved = {v.version: who[(kind, v.version)] for v in mine if (kind, v.version) in who}
        found.append(KindFlows(kind, active, source, mine, saved))
    return found


def get_flow_version(*, uow: UnitOfWork, store_id: str, flow_id: int) -> FlowVersion:
    """One version of the store's flows; NotFound for another store's."""
    with uow:
        found = uow.flows.get(flow_id)
    if found is None or found.store_id != store_id:
        raise NotFound("no such flow version")
    return found


def rollback_flow(
    *, uow: UnitOfWork, store_id: str, flow_id: int, now: datetime, actor: Actor | None
) -> int:
    """Save version ``flow_id``'s source as the store's new active version of its kind
    (running cases keep theirs); audited ``flow.rollback``; returns the new version."""
    with uow:
        old = uow.flows.get(flow_id)
        if old is None or old.store_id != store_id or uow.stores.get(store_id) is None:
            raise NotFound("no such flow version")
        was = uow.flows.active(store_id, old.kind)
        save_flow(uow, store_id=store_id, source=old.source, flow=old.flow, now=now)
        current = uow.flows.active(store_id, old.kind)
        assert current is not None
        record(
            uow,
            actor,
            "flow.rollback",
            old.kind,
            store_id=store_id,
            before=None if was is None else {"version": was.version},
            after={"version": current.version, "from": old.version, "name": old.flow.name},
        )
        uow.commit()
        return current.version
