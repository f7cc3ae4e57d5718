"""Merchants' own templates as the renderer asks for them (:class:`StoreTemplates`): read
outside any unit of work (:func:`read_template`) and kept a few seconds."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import Engine, select

from reclaim.adapters.db.tables import templates
from reclaim.adapters.templates import CompiledTemplate


def read_template(
    engine: Engine, store_id: str, key: str, channel: str, locale: str
) -> dict[str, Any] | None:
    """A store's own template, read on a read-only connection of its own: safe to call
    while the calling thread holds a write transaction (SQLite would otherwise wait on
    itself)."""
    with engine.connect().execution_options(reclaim_readonly=True) as conn:
        value: dict[str, Any] | None = conn.execute(
            select(templates.c.compiled).where(
                templates.c.store_id == store_id,
                templates.c.key == key,
                templates.c.channel == channel,
                templates.c.locale == locale,
            )
        ).scalar()
        return value


class StoreTemplates:
    """Merchants' own templates for the renderer, read from the database and kept for
    ``ttl`` seconds (a saved template reaches every worker within that time).

    The cache's clock is ``time.monotonic``: it only ages cached rows, it never decides
    anything about customers or messages.
    """

    def __init__(self, engine: Engine, *, ttl: float = 10.0) -> None:
        self._engine = engine
        self._ttl = ttl
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str, str, str], tuple[float, CompiledTemplate | None]] = {}

    def __call__(
        self, store_id: str, key: str, channel: str, locale: str
    ) -> CompiledTemplate | None:
        at = time.monotonic()
        slot = (store_id, key, str(channel), locale)
        with self._lock:
            hit = self._cache.get(slot)
        if hit is not None and at - hit[0] < self._ttl:
            return hit[1]
        data = read_template(self._engine, store_id, key, str(channel), locale)
        found = None if data is None else CompiledTemplate.from_json(data)
        with self._lock:
            self._cache[slot] = (at, found)
        return found

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()
