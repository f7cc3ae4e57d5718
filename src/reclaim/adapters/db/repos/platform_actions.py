"""SQLAlchemy repository for the outbox of calls to the stores' platforms (cancel an unpaid
order at its hold's end)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from reclaim.adapters.db.dialect import claim_update, upsert
from reclaim.adapters.db.tables import platform_actions
from reclaim.services.ports import ActionState, PlatformAction


class SqlPlatformActions:
    """The outbox of calls to the stores' platforms."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, *, store_id: str, action: str, order_external_id: str, now: datetime) -> bool:
        """True when the action was not queued before (RETURNING tells: through the session
        the rowcount of ``ON CONFLICT DO NOTHING`` is -1 on PostgreSQL)."""
        made = self.s.execute(
            upsert(self.s, platform_actions)
            .values(
                store_id=store_id,
                action=action,
                order_external_id=order_external_id,
                status="pending",
                attempts=0,
                due_at=now,
                created_at=now,
            )
            .on_conflict_do_nothing()
            .returning(platform_actions.c.id)
        ).scalar()
        return made is not None

    def claim(
        self, *, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[PlatformAction]:
        """Due pending actions, pushed to ``lease_until`` so no other worker takes them
        meanwhile (a crashed worker's action comes back then: the calls are idempotent)."""
        pick = (
            select(platform_actions.c.id)
            .where(platform_actions.c.status == "pending", platform_actions.c.due_at <= now)
            .order_by(platform_actions.c.due_at)
            .limit(limit)
        )
        rows = self.s.execute(
            claim_update(self.s, platform_actions, pick, platform_actions.c.status == "pending")
            .values(
                due_at=lease_until,
                attempts=platform_actions.c.attempts + 1,
                first_attempt_at=func.coalesce(platform_actions.c.first_attempt_at, now),
            )
            .returning(
                platform_actions.c.id,
                platform_actions.c.store_id,
                platform_actions.c.action,
                platform_actions.c.order_external_id,
                platform_actions.c.attempts,
                platform_actions.c.first_attempt_at,
            )
        ).all()
        return [PlatformAction(*r) for r in sorted(rows)]

    def finish(
        self,
        action_id: int,
        *,
        status: str,
        error: str | None,
        now: datetime,
        retry_at: datetime | None,
    ) -> None:
        values: dict[str, Any] = {"status": status, "error": error}
        if status == "pending" and retry_at is not None:
            values["due_at"] = retry_at
        else:
            values["done_at"] = now
        self.s.execute(
            update(platform_actions).where(platform_actions.c.id == action_id).values(**values)
        )

    def for_order(self, store_id: str, order_external_id: str) -> Sequence[ActionState]:
        rows = self.s.execute(
            select(
                platform_actions.c.action,
                platform_actions.c.status,
                platform_actions.c.error,
                platform_actions.c.due_at,
            ).where(
                platform_actions.c.store_id == store_id,
                platform_actions.c.order_external_id == order_external_id,
            )
        )
        return [ActionState(r.action, r.status, r.error, r.due_at) for r in rows]
