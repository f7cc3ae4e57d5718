"""What the operations pages and settings share: the store a page is about (``?store=``,
the user's first store by default, 404 for one they do not see), a form's values and errors,
flashes, and the times operators type in their own zone."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Query
from fastapi.concurrency import run_in_threadpool

from reclaim.domain.stores import Store
from reclaim.entrypoints.console.auth import Who
from reclaim.entrypoints.console.words import Words

# The query parameters the list pages share: the store, a ``?done=`` flash, a page cursor.
StoreQuery = Annotated[str, Query(max_length=64)]
DoneQuery = Annotated[str, Query(max_length=64)]
CursorQuery = Annotated[str, Query(max_length=20)]


def pick(who: Who, store: str | None) -> Store | None:
    """The store asked for (NotFound, a 404, when the user does not see it), else the
    user's first; None when they see none."""
    if store:
        return who.store(store)
    return who.stores[0] if who.stores else None


@dataclass(slots=True)
class Form:
    """A form's values as typed (kept when it comes back) and its errors by field, in the
    user's words."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    @property
    def ok(self) -> bool:
        return not self.errors


def flash(done: str, allowed: Iterable[str]) -> str:
    """The words key of a ``?done=`` flash, if it is one this page gives."""
    return done if done in set(allowed) else ""


def local_time(text: str, timezone: str) -> datetime | None:
    """A ``datetime-local`` input's value, read in the user's zone, as UTC; None if it is
    not one."""
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo(timezone))
    return at.astimezone(UTC)


def local_input(at: datetime, timezone: str) -> str:
    """``at`` as a ``datetime-local`` input's value in the user's zone."""
    return at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%dT%H:%M")


def words_of(who: Who) -> Words:
    return Words(who.user.locale)


async def call(fn: Callable[..., Any], /, **kw: Any) -> Any:
    """A service, off the event loop."""
    return await run_in_threadpool(fn, **kw)


def int_cursor(text: str) -> int | None:
    """A numeric page cursor from the query (None when absent or not one)."""
    text = text.strip()
    if not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value < 2**63 else None
