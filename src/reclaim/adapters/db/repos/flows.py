"""SQLAlchemy repository for flows: a store's versions of each flow, the active one."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from reclaim.adapters.db.dialect import is_postgres
from reclaim.adapters.db.tables import flows
from reclaim.domain.flows import Flow, parse_flow
from reclaim.services.ports import FlowVersion

_is_pg = is_postgres


@functools.lru_cache(maxsize=256)
def _parsed(flow_id: int, created_at: datetime, source: str, definition: str) -> Flow:
    """A version's parsed flow. Versions are never changed once written (a change is a new
    version), so the parse is kept; the key holds the stored text itself, so two databases
    whose rows share an id (tests, the simulator) never share an entry."""
    return parse_flow(orjson.loads(definition))


class SqlFlows:
    def __init__(self, session: Session) -> None:
        self.s = session
        self._seen: dict[int, FlowVersion] = {}  # this transaction's lookups

    @staticmethod
    def _of(row: Any) -> FlowVersion:
        return FlowVersion(
            id=row.id,
            store_id=row.store_id,
            kind=row.kind,
            version=row.version,
            source=row.source,
            flow=_parsed(row.id, row.created_at, row.source, orjson.dumps(row.definition).decode()),
            created_at=row.created_at,
            active=row.active,
        )

    def get(self, flow_id: int) -> FlowVersion | None:
        """A version by id; asked again in the same transaction, answered without a query
        (a version's content never changes; only ``active`` can, and only through
        :meth:`add`, which forgets what was seen)."""
        seen = self._seen.get(flow_id)
        if seen is not None:
            return seen
        row = self.s.execute(select(flows).where(flows.c.id == flow_id)).first()
        if row is None:
            return None
        found = self._seen[flow_id] = self._of(row)
        return found

    def active(self, store_id: str, kind: str) -> FlowVersion | None:
        row = self.s.execute(
            select(flows).where(
                flows.c.store_id == store_id, flows.c.kind == kind, flows.c.active.is_(True)
            )
        ).first()
        return None if row is None else self._of(row)

    def list(self, store_id: str) -> Sequence[FlowVersion]:
        rows = self.s.execute(
            select(flows)
            .where(flows.c.store_id == store_id)
            .order_by(flows.c.kind, flows.c.version.desc())
        )
        return [self._of(r) for r in rows]

    def add(
        self,
        *,
        store_id: str,
        kind: str,
        name: str,
        source: str,
        definition: dict[str, object],
        now: datetime,
        active: bool = True,
    ) -> int:
        """A new version; an active one replaces the active one, which stays for the cases
        that run it. An inactive one (an experiment's variant) changes nothing else."""
        self._seen.clear()
        if _is_pg(self.s):  # two saves at once must not both take the same version number
            self.s.execute(
                select(func.pg_advisory_xact_lock(func.hashtext(f"flows:{store_id}:{kind}")))
            )
        latest = self.s.execute(
            select(func.max(flows.c.version)).where(
                flows.c.store_id == store_id, flows.c.kind == kind
            )
        ).scalar()
        if active:
            self.s.execute(
                update(flows)
                .where(flows.c.store_id == store_id, flows.c.kind == kind)
                .values(active=False)
            )
        return int(
            self.s.execute(
                insert(flows)
                .values(
                    store_id=store_id,
                    kind=kind,
                    version=(latest or 0) + 1,
                    name=name,
                    source=source,
                    definition=definition,
                    created_at=now,
                    active=active,
                )
                .returning(flows.c.id)
            ).scalar_one()
        )
