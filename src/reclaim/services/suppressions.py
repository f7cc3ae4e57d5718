"""The suppression lists, for operators (SPEC S5): look an address up, add one ("do not
contact"), take one off (a customer who asks to hear from the store again), import a list
from another tool. Entries are kept hashed (``domain.policy.suppression_key``), so an address
is only ever looked up, never listed; bounces, complaints and unsubscribes add their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from reclaim.domain.audit import Actor
from reclaim.domain.facts import customer_key
from reclaim.domain.messages import Channel
from reclaim.domain.policy import suppression_key
from reclaim.errors import InvalidInput, NotFound
from reclaim.services.audit import address_subject, record
from reclaim.services.flows import stop_customer_flows
from reclaim.services.ports import UnitOfWork

CHANNELS = ("email", "sms")
_PHONE_NOISE = re.compile(r"[\s\-().]")
_HASH = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class Entry:
    reason: str  # unsubscribed | bounced | complained | erased | manual | imported
    since: datetime


@dataclass(frozen=True, slots=True)
class Added:
    new: bool
    flows_stopped: int


def _channel(channel: str) -> Channel:
    if channel not in CHANNELS:
        raise InvalidInput(f"channel must be one of {', '.join(CHANNELS)}", field="channel")
    return Channel(channel)


def _key(channel: Channel, address: str) -> tuple[str, str]:
    """The address as keyed, and its hash."""
    if not isinstance(address, str) or not address.strip():
        raise InvalidInput("address is missing", field="address")
    value = _PHONE_NOISE.sub("", address) if channel is Channel.SMS else address
    return value.strip(), suppression_key(channel, value)


def _store(uow: UnitOfWork, store_id: str) -> None:
    if uow.stores.get(store_id) is None:
        raise NotFound(f"no store {store_id[:40]!r}")


def check(*, uow: UnitOfWork, store_id: str, channel: str, address: str) -> Entry | None:
    """The address's entry on the store's list, or None."""
    kind = _channel(channel)
    _, key = _key(kind, address)
    with uow:
        _store(uow, store_id)
        found = uow.suppressions.entry(store_id, kind.value, key)
    return None if found is None else Entry(*found)


def counts(*, uow: UnitOfWork, store_id: str) -> dict[str, int]:
    """How many entries the store's lists hold, by reason (the entries are hashes: they are
    counted, never listed)."""
    with uow:
        _store(uow, store_id)
        return dict(uow.suppressions.count(store_id))


def add(
    *,
    uow: UnitOfWork,
    store_id: str,
    channel: str,
    address: str,
    now: datetime,
    actor: Actor | None = None,
) -> Added:
    """Put the address on the list ("manual") and stop the customer's running flows."""
    kind = _channel(channel)
    value, key = _key(kind, address)
    with uow:
        _store(uow, store_id)
        new = uow.suppressions.add(
            store_id=store_id,
            channel=kind.value,
            address_key=key,
            reason="manual",
            at=now,
            message_id=None,
        )
        who = customer_key(value, None) if kind is Channel.EMAIL else customer_key(None, value)
        stopped = 0
        if who is not None:
            stopped = stop_customer_flows(uow, store_id, who, at=now, reason="suppressed")
        if new:
            record(
                uow,
                actor,
                "suppression.add",
                partial(address_subject, uow, kind.value, value),
                store_id=store_id,
                before={"suppressed": False},
                after={"suppressed": True, "reason": "manual", "flows_stopped": stopped},
            )
        uow.commit()
    return Added(new, stopped)


def remove(
    *, uow: UnitOfWork, store_id: str, channel: str, address: str, actor: Actor | None = None
) -> Entry | None:
    """Take the address off the list; the entry it had, or None. Flows stopped by it stay
    stopped: only new cases message the customer again."""
    kind = _channel(channel)
    value, key = _key(kind, address)
    with uow:
        _store(uow, store_id)
        found = uow.suppressions.entry(store_id, kind.value, key)
        if found is not None:
            uow.suppressions.remove(store_id, kind.value, key)
            record(
                uow,
                actor,
                "suppression.remove",
                partial(address_subject, uow, kind.value, value),
                store_id=store_id,
                before={"suppressed": True, "reason": found[0], "since": found[1]},
                after={"suppressed": False},
            )
        uow.commit()
    return None if found is None else Entry(*found)


def import_list(
    *,
    uow: UnitOfWork,
    store_id: str,
    channel: str,
    lines: Iterable[str],
    now: datetime,
    progress: Callable[[int], None] | None = None,
    actor: Actor | None = None,
) -> tuple[int, int]:
    """Import a suppression list from another tool: one address, or its SHA-256 hex hash of
    the lower-cased email / E.164 number (the form hashed lists are exchanged in), per line;
    blank lines and ``#`` comments are skipped. All or nothing: a line that is neither names
    its number. Returns (entries read, entries new)."""
    kind = _channel(channel)
    keys: list[str] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if _HASH.fullmatch(line.lower()):
            keys.append(line.lower())
            continue
        try:
            keys.append(_key(kind, line.split(",")[0])[1])
        except InvalidInput as exc:
            raise InvalidInput(f"line {number}: {exc}", field="file") from None
    added = 0
    with uow:
        _store(uow, store_id)
        for start in range(0, len(keys), 5000):
            chunk = keys[start : start + 5000]
            added += uow.suppressions.add_many(
                store_id=store_id,
                channel=kind.value,
                address_keys=chunk,
                reason="imported",
                at=now,
            )
            if progress is not None:
                progress(min(start + 5000, len(keys)))
        after = {"read": len(keys), "added": added, "reason": "imported"}
        record(uow, actor, "suppression.import", kind.value, store_id=store_id, after=after)
        uow.commit()
    return len(keys), added
