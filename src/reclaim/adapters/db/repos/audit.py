"""SQLAlchemy repository for the audit log: entries added with a change, read newest first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from reclaim.adapters.db.tables import audit_log
from reclaim.domain.audit import AuditEntry


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        store_id=row.store_id,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        before=row.before,
        after=row.after,
    )


class SqlAudit:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, entry: AuditEntry) -> None:
        self.s.execute(
            insert(audit_log).values(
                at=entry.at,
                store_id=entry.store_id,
                actor=entry.actor,
                action=entry.action,
                subject=entry.subject,
                before=entry.before,
                after=entry.after,
            )
        )

    def list(
        self, *, store_id: str | None, limit: int, before_id: int | None = None
    ) -> Sequence[AuditEntry]:
        q = select(audit_log)
        if store_id is not None:
            q = q.where(audit_log.c.store_id == store_id)
        if before_id is not None:
            q = q.where(audit_log.c.id < before_id)
        rows = self.s.execute(q.order_by(audit_log.c.id.desc()).limit(limit))
        return [_entry(r) for r in rows]
