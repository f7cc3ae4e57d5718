"""A customer's access and erasure requests (SPEC S13; GDPR articles 15 and 17), asked by
their email address, one store at a time.

Access (:func:`export_customer`) hands over every row about them as JSON. Erasure
(:func:`erase_customer`) deletes those rows, rewrites the kept raw deliveries that mention
them without their data (``domain.privacy.scrub``) and leaves one suppression entry per
address they were reachable at, under a keyed hash, so they are never messaged again; it is
written to the audit log under that hash, and erasing someone already erased says so and
changes nothing. docs/security.md ("Privacy") says what the database files keep afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reclaim.domain.audit import Actor, plain
from reclaim.domain.messages import Channel
from reclaim.domain.policy import suppression_key
from reclaim.domain.privacy import ERASED, erasure_address, needles, scrub
from reclaim.errors import InvalidInput, NotFound
from reclaim.services.audit import record
from reclaim.services.ports import CUSTOMER_TABLES, Delivery, UnitOfWork

ERASED_STATUS = "erased"  # a delivery rewritten without a customer: never processed again


@dataclass(frozen=True, slots=True)
class Erasure:
    """What an erasure did. ``subject``: the keyed hash the audit log and the suppression
    list name the person by. ``already``: they were erased before and nothing was found
    since (nothing changed; ``since`` says when)."""

    subject: str
    already: bool = False
    since: datetime | None = None
    deleted: dict[str, int] = field(default_factory=dict)
    deliveries_rewritten: int = 0
    deliveries_dropped: int = 0  # bodies that were not JSON, emptied whole
    suppressed: int = 0  # addresses left as keyed suppression entries


def _store(uow: UnitOfWork, store_id: str) -> None:
    if uow.stores.get(store_id) is None:
        raise NotFound(f"no store {store_id[:40]!r}")


def _unknown(store_id: str) -> NotFound:
    return NotFound(f"no customer with that email address in store {store_id[:40]}")


def _phones(rows: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The E.164 numbers the rows reached the person at (where an SMS entry can be kept)."""
    found: set[str] = set()
    for name in ("checkouts", "orders", "cases", "payment_attempts"):
        for row in rows.get(name, ()):
            contact = row.get("contact") or {}
            found.update(p for p in (row.get("phone"), contact.get("phone")) if p)
    found.update(m["recipient"] for m in rows.get("messages", ()) if m.get("channel") == "sms")
    usable = []
    for phone in sorted(found):
        try:
            suppression_key(Channel.SMS, phone)
        except InvalidInput:
            continue
        usable.append(phone)
    return usable


def _personal(rows: dict[str, list[dict[str, Any]]], email: str) -> list[str]:
    """What to look for in raw bodies: the address (as each row wrote it), phones, names."""
    values: list[str | None] = [email]
    for name in ("checkouts", "orders", "cases", "payment_attempts"):
        for row in rows.get(name, ()):
            contact = row.get("contact") or {}
            first, last = contact.get("first_name"), contact.get("last_name")
            values += [row.get("email"), row.get("phone"), contact.get("phone"), first, last]
            if first and last:
                values.append(f"{first} {last}")
    return needles(values)


def _addresses(rows: dict[str, list[dict[str, Any]]], email: str) -> list[tuple[str, str]]:
    """(channel, suppression key) of every address the person was reachable at."""
    return [(Channel.EMAIL.value, suppression_key(Channel.EMAIL, email))] + [
        (Channel.SMS.value, suppression_key(Channel.SMS, p)) for p in _phones(rows)
    ]


def _body(delivery: Delivery) -> Any:
    try:
        return json.loads(delivery.body)
    except (ValueError, UnicodeDecodeError):
        return bytes(delivery.body).decode("utf-8", errors="replace")


def export_customer(
    *, uow: UnitOfWork, store_id: str, email: str, now: datetime, actor: Actor | None = None
) -> dict[str, Any]:
    """Every row about the customer with address ``email`` in the store, as JSON values: by
    table (:data:`~reclaim.services.ports.CUSTOMER_TABLES`), the raw deliveries that mention
    them (``deliveries``) and their suppression entries (``suppressions``). ``InvalidInput``
    (field ``email``) for a malformed address, ``NotFound`` when nothing is about them."""
    address = erasure_address(email)
    with uow:
        _store(uow, store_id)
        rows = uow.privacy.rows_about(store_id, address)
        deliveries = uow.privacy.deliveries_mentioning(store_id, address)
        entries = []
        for channel, key in _addresses(rows, address):
            found = uow.suppressions.entry(store_id, channel, key)
            if found is not None:
                entries.append({"channel": channel, "reason": found[0], "since": plain(found[1])})
        if not any(rows.values()) and not deliveries and not entries:
            raise _unknown(store_id)
        subject = "hash:" + uow.privacy.keyed(suppression_key(Channel.EMAIL, address))
        counts = {k: len(v) for k, v in rows.items() if v} | {"deliveries": len(deliveries)}
        record(uow, actor, "customer.export", subject, store_id=store_id, after=counts)
        uow.commit()
    return {
        "store_id": store_id,
        "email": address,
        "exported_at": plain(now),
        **{name: rows.get(name, []) for name in CUSTOMER_TABLES},
        "deliveries": [
            {
                "id": d.id,
                "source": d.source,
                "topic": d.topic,
                "received_at": plain(d.received_at),
                "status": d.status,
                "body": _body(d),
            }
            for d in deliveries
        ],
        "suppressions": entries,
    }


def _mentions(text: str | None, looked_for: Iterable[str]) -> bool:
    return text is not None and any(n in text.lower() for n in looked_for)


def erase_customer(
    *,
    uow: UnitOfWork,
    store_id: str,
    email: str,
    now: datetime,
    actor: Actor | None = None,
    compact: Callable[[Collection[str]], None] | None = None,
) -> Erasure:
    """Erase the customer with address ``email`` from the store, in one transaction: their
    rows deleted, the raw deliveries that mention them rewritten (status ``erased``: never
    processed again; kept, because their event id and digest make a platform's retry of the
    same delivery a duplicate rather than the person back), one keyed suppression entry per
    address in place of any plain one, an audit entry. Then ``compact`` is called with the
    tables touched (what the database files keep of deleted rows).

    ``InvalidInput`` (field ``email``) for a malformed address; ``NotFound`` when nothing is
    about them; someone erased before, with nothing new since: ``Erasure(already=True)``,
    and nothing changes."""
    address = erasure_address(email)
    with uow:
        _store(uow, store_id)
        email_key = suppression_key(Channel.EMAIL, address)
        subject = "hash:" + uow.privacy.keyed(email_key)
        rows = uow.privacy.rows_about(store_id, address)
        deliveries = uow.privacy.deliveries_mentioning(store_id, address)
        addresses = _addresses(rows, address)
        entries = {a: uow.suppressions.entry(store_id, *a) for a in addresses}
        if not any(rows.values()) and not deliveries:
            found = entries[addresses[0]]
            if found is not None and found[0] == "erased":
                return Erasure(subject, already=True, since=found[1])
            if all(e is None for e in entries.values()):
                raise _unknown(store_id)
        deleted = {k: n for k, n in uow.privacy.forget(store_id, address).items() if n}
        looked_for = _personal(rows, address)
        dropped = 0
        for d in deliveries:
            body = scrub(d.body, looked_for)
            dropped += not body
            error = ERASED if _mentions(d.error, looked_for) else d.error
            uow.privacy.rewrite_delivery(d.id, body=body, status=ERASED_STATUS, error=error)
        for (channel, key), entry in entries.items():
            if entry is not None and entry[0] == "erased":
                continue  # erased before: the first entry stays
            uow.suppressions.remove(store_id, channel, key)
            uow.suppressions.add(
                store_id=store_id,
                channel=channel,
                address_key=uow.privacy.keyed(key),
                reason="erased",
                at=now,
                message_id=None,
            )
        done = Erasure(
            subject,
            deleted=deleted,
            deliveries_rewritten=len(deliveries) - dropped,
            deliveries_dropped=dropped,
            suppressed=len(addresses),
        )
        after = {
            "deleted": deleted,
            "deliveries_rewritten": done.deliveries_rewritten,
            "deliveries_dropped": dropped,
            "suppressed": len(addresses),
        }
        record(uow, actor, "customer.erase", subject, store_id=store_id, after=after)
        uow.commit()
    if compact is not None:
        compact({*deleted, "suppressions", *(["inbox"] if deliveries else [])})
    return done
