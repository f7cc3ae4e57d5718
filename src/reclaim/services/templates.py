"""Merchants' own message templates (SPEC S4): saved compiled (CSS inlined once, at save
time), looked up per store, key, channel and locale when a message is rendered."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from reclaim.errors import NotFound
from reclaim.services.ports import UnitOfWork


def save_template(
    *,
    uow: UnitOfWork,
    store_id: str,
    key: str,
    channel: str,
    locale: str,
    compiled: Mapping[str, Any],
    now: datetime,
) -> None:
    """Store a compiled template (``compile_template(...).to_json()``, parsed)."""
    with uow:
        if uow.stores.get(store_id) is None:
            raise NotFound(f"no store {store_id[:40]!r}")
        uow.templates.put(
            store_id=store_id,
            key=key,
            channel=channel,
            locale=locale,
            compiled=dict(compiled),
            now=now,
        )
        uow.commit()


def delete_template(*, uow: UnitOfWork, store_id: str, key: str, channel: str, locale: str) -> bool:
    """Go back to the default template; False when the store had none of its own."""
    with uow:
        gone = uow.templates.delete(store_id=store_id, key=key, channel=channel, locale=locale)
        uow.commit()
        return gone


def find_template(
    *, uow: UnitOfWork, store_id: str, key: str, channel: str, locale: str
) -> dict[str, Any] | None:
    with uow:
        return uow.templates.get(store_id, key, channel, locale)
