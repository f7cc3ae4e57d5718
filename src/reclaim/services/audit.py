"""The audit log (SPEC S13): every change made through the CLI or the API, written by the use
case that makes it, in its own transaction (a change and its entry are kept together or not
at all), with the actor the entrypoint names; and the log read back, newest first.

A use case takes ``actor: Actor | None``: the CLI passes ``cli:<os user>``, the API
``api:<key prefix>``; ``None`` (the simulator, tests, the worker's own work) writes no entry.
What is not a change of the store's set-up or data is not logged here: deliveries coming in
(webhooks, events), the worker's sending, customers' clicks and unsubscribes (their own rows
record them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from reclaim.domain.audit import Actor, AuditEntry, redact
from reclaim.domain.messages import Channel
from reclaim.domain.policy import suppression_key
from reclaim.errors import NotFound
from reclaim.services.ports import UnitOfWork

MAX_PAGE = 500


def record(
    uow: UnitOfWork,
    actor: Actor | None,
    action: str,
    subject: object | Callable[[], object],
    *,
    store_id: str | None = None,
    before: Mapping[str, object] | None = None,
    after: Mapping[str, object] | None = None,
) -> None:
    """Add an entry to the unit of work's transaction (nothing when ``actor`` is None).
    ``subject`` may be a function that names it, called only then; ``before``/``after`` are
    masked (``domain.audit.redact``): secrets read ``***``."""
    if actor is None:
        return
    if callable(subject):
        subject = subject()
    uow.audit.add(
        AuditEntry(
            at=actor.at,
            actor=actor.name[:120],
            action=action,
            subject=str(subject)[:200],
            store_id=store_id,
            before=redact(before),
            after=redact(after),
        )
    )


def address_subject(uow: UnitOfWork, channel: str, address: str) -> str:
    """How an entry names an address: the keyed hash an erasure would leave
    (``domain.privacy``), so the log holds no address, and no plain hash of one that an
    erasure would have to find, either."""
    return "hash:" + uow.privacy.keyed(suppression_key(Channel(channel), address))


def list_entries(
    *, uow: UnitOfWork, store_id: str | None, limit: int = 100, before_id: int | None = None
) -> Sequence[AuditEntry]:
    """The log newest first: one store's entries, or every entry (``store_id`` None);
    ``NotFound`` for a store that does not exist."""
    with uow:
        if store_id is not None and uow.stores.get(store_id) is None:
            raise NotFound(f"no store {store_id[:40]!r}")
        return list(
            uow.audit.list(
                store_id=store_id, limit=min(max(limit, 1), MAX_PAGE), before_id=before_id
            )
        )
