"""SQLAlchemy repository for merchants' own templates (compiled, CSS inlined, when saved)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, insert, select, update
from sqlalchemy.orm import Session

from reclaim.adapters.db.tables import templates


class SqlTemplates:
    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, store_id: str, key: str, channel: str, locale: str) -> dict[str, Any] | None:
        value: dict[str, Any] | None = self.s.execute(
            select(templates.c.compiled).where(
                templates.c.store_id == store_id,
                templates.c.key == key,
                templates.c.channel == channel,
                templates.c.locale == locale,
            )
        ).scalar()
        return value

    def put(
        self,
        *,
        store_id: str,
        key: str,
        channel: str,
        locale: str,
        compiled: dict[str, Any],
        now: datetime,
    ) -> None:
        done = self.s.execute(
            update(templates)
            .where(
                templates.c.store_id == store_id,
                templates.c.key == key,
                templates.c.channel == channel,
                templates.c.locale == locale,
            )
            .values(compiled=compiled, updated_at=now)
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            self.s.execute(
                insert(templates).values(
                    store_id=store_id,
                    key=key,
                    channel=channel,
                    locale=locale,
                    compiled=compiled,
                    updated_at=now,
                )
            )

    def delete(self, *, store_id: str, key: str, channel: str, locale: str) -> bool:
        res: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            templates.delete().where(
                templates.c.store_id == store_id,
                templates.c.key == key,
                templates.c.channel == channel,
                templates.c.locale == locale,
            )
        )
        return bool(res.rowcount)
