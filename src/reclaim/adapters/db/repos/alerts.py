"""SQLAlchemy repository for a store's alerts and the notices sent about them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, insert, select, update
from sqlalchemy.orm import Session

from reclaim.adapters.db.tables import alerts


class SqlAlerts:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, *, store_id: str, at: datetime, type: str, data: dict[str, object]) -> None:
        self.s.execute(insert(alerts).values(store_id=store_id, at=at, type=type, data=data))

    def last(self, store_id: str, type: str) -> datetime | None:
        value: datetime | None = self.s.execute(
            select(alerts.c.at)
            .where(alerts.c.store_id == store_id, alerts.c.type == type)
            .order_by(alerts.c.id.desc())
            .limit(1)
        ).scalar()
        return value

    def of_type(self, store_id: str, type: str) -> Sequence[Any]:
        rows = self.s.execute(
            select(alerts.c.data)
            .where(alerts.c.store_id == store_id, alerts.c.type == type)
            .order_by(alerts.c.id)
        )
        return [r.data for r in rows]

    def unnotified(self, limit: int = 50) -> Sequence[tuple[int, str, datetime, str, Any]]:
        """Alerts whose operators were not told yet, oldest first: (id, store, at, type, data)."""
        rows = self.s.execute(
            select(alerts.c.id, alerts.c.store_id, alerts.c.at, alerts.c.type, alerts.c.data)
            .where(alerts.c.notified_at.is_(None))
            .order_by(alerts.c.id)
            .limit(limit)
        )
        return [(r.id, r.store_id, r.at, r.type, r.data) for r in rows]

    def claim_notice(self, alert_id: int, at: datetime) -> bool:
        """Take the alert's notice for this worker (no other sends it); False: already taken."""
        res: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            update(alerts)
            .where(alerts.c.id == alert_id, alerts.c.notified_at.is_(None))
            .values(notified_at=at)
        )
        return res.rowcount == 1

    def release_notice(self, alert_id: int) -> None:
        """Give a claimed notice back (it could not be sent now): the next round tries again."""
        self.s.execute(update(alerts).where(alerts.c.id == alert_id).values(notified_at=None))

    def recent(self, store_id: str, limit: int = 50) -> Sequence[tuple[datetime, str, Any]]:
        rows = self.s.execute(
            select(alerts.c.at, alerts.c.type, alerts.c.data)
            .where(alerts.c.store_id == store_id)
            .order_by(alerts.c.id.desc())
            .limit(limit)
        )
        return [(r.at, r.type, r.data) for r in rows]
