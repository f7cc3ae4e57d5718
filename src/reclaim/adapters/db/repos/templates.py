"""SQLAlchemy repository for merchants' own templates (compiled, CSS inlined, when saved),
and every version of them (``template_versions``: history, diff and rollback)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, insert, null, select, update
from sqlalchemy.orm import Session

from reclaim.adapters.db.tables import template_versions, templates
from reclaim.services.ports import TemplateVersion


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

    def listed(self, store_id: str) -> Sequence[tuple[str, str, str, datetime]]:
        rows = self.s.execute(
            select(templates.c.key, templates.c.channel, templates.c.locale, templates.c.updated_at)
            .where(templates.c.store_id == store_id)
            .order_by(templates.c.key, templates.c.channel, templates.c.locale)
        )
        return [(r.key, r.channel, r.locale, r.updated_at) for r in rows]

    def add_version(
        self,
        *,
        store_id: str,
        key: str,
        channel: str,
        locale: str,
        compiled: dict[str, Any] | None,
        saved_at: datetime,
        saved_by: str,
    ) -> int:
        return int(
            self.s.execute(
                insert(template_versions)
                .values(
                    store_id=store_id,
                    key=key,
                    channel=channel,
                    locale=locale,
                    compiled=null() if compiled is None else compiled,  # SQL NULL: a reset
                    saved_at=saved_at,
                    saved_by=saved_by[:120],
                )
                .returning(template_versions.c.id)
            ).scalar_one()
        )

    @staticmethod
    def _version(row: Any) -> TemplateVersion:
        return TemplateVersion(
            id=row.id,
            store_id=row.store_id,
            key=row.key,
            channel=row.channel,
            locale=row.locale,
            compiled=row.compiled,
            saved_at=row.saved_at,
            saved_by=row.saved_by,
        )

    def versions(
        self, store_id: str, key: str, channel: str, locale: str, *, limit: int = 50
    ) -> Sequence[TemplateVersion]:
        v = template_versions.c
        rows = self.s.execute(
            select(template_versions)
            .where(v.store_id == store_id, v.key == key, v.channel == channel, v.locale == locale)
            .order_by(v.id.desc())
            .limit(limit)
        )
        return [self._version(r) for r in rows]

    def version(self, version_id: int) -> TemplateVersion | None:
        row = self.s.execute(
            select(template_versions).where(template_versions.c.id == version_id)
        ).first()
        return None if row is None else self._version(row)
