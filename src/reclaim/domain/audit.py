"""The audit log (SPEC S13): who changed what, when, from what to what. An entry names its
subject by an id (a store, a case, a key's prefix) or by a keyed hash of an address, never by
personal data in clear; secrets in its before and after read ``***``."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

MASK = "***"
# Fields whose values are secrets wherever they appear (a store's settings, a key): an
# entry keeps that they were set or changed, never what to.
SECRET_FIELDS = frozenset(
    {
        "webhook_secret",
        "webhook_signing_secret",
        "platform_api_token",
        "api_key",
        "digest",
        "token",
        "secret",
        "password",
    }
)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change, and when: ``cli:<os user>``, ``api:<key prefix>``,
    ``console:<user>``; ``at`` is the entrypoint's clock."""

    name: str
    at: datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One change. ``action`` is ``noun.verb`` (``store.set``, ``customer.erase``); ``before``
    and ``after`` hold what changed, as JSON values, secrets masked (:func:`redact`)."""

    at: datetime
    actor: str
    action: str
    subject: str
    store_id: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    id: int | None = None


def plain(value: object) -> Any:
    """``value`` as JSON values: dataclasses as objects, datetimes and dates in ISO 8601,
    ``Decimal`` as a string, a ``timedelta`` in seconds, bytes as UTF-8 text (replaced where
    not), tuples and sets as lists."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [plain(v) for v in items]
    return str(value)


def _secret(name: str) -> bool:
    return name in SECRET_FIELDS or name.endswith(("_secret", "_token", "_password"))


def redact(value: Mapping[str, object] | None) -> dict[str, Any] | None:
    """``value`` as JSON values (:func:`plain`) with every secret field's value, at any depth,
    replaced by ``***`` (an empty or missing secret stays as it is: that it is unset is no
    secret)."""
    if value is None:
        return None

    def walk(item: Any) -> Any:
        if isinstance(item, dict):
            return {
                k: (MASK if _secret(k) and v not in (None, "") else walk(v))
                for k, v in item.items()
            }
        if isinstance(item, list):
            return [walk(v) for v in item]
        return item

    found: dict[str, Any] = walk(plain(value))
    return found


def changes(
    before: Mapping[str, object], after: Mapping[str, object]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields that differ between ``before`` and ``after`` (as JSON values): what an
    entry of a change keeps, rather than everything that stayed."""
    old, new = plain(before), plain(after)
    keys = [k for k in {**old, **new} if old.get(k) != new.get(k)]
    return {k: old.get(k) for k in keys}, {k: new.get(k) for k in keys}
