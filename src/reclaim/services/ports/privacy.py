"""The audit log and a customer's data (SPEC S13): the repositories of who changed what, and
of every row about one person, to hand them over or erase them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from reclaim.domain.audit import AuditEntry
from reclaim.services.ports.records import Delivery


class AuditRepository(Protocol):
    def add(self, entry: AuditEntry) -> None: ...
    def list(
        self, *, store_id: str | None, limit: int, before_id: int | None = None
    ) -> Sequence[AuditEntry]:
        """Entries newest first (by id), of one store or of all (``None``), those older than
        ``before_id`` when given."""
        ...


# The tables :meth:`PrivacyRepository.rows_about` reads, in the order they are erased.
CUSTOMER_TABLES = (
    "message_events",
    "messages",
    "steps",
    "coupons",
    "case_events",
    "case_reasons",
    "cases",
    "shipment_scans",
    "shipments",
    "payment_attempts",
    "orders",
    "checkouts",
)


class PrivacyRepository(Protocol):
    def rows_about(self, store_id: str, email: str) -> dict[str, list[dict[str, Any]]]:
        """Every row about the customer whose address is ``email`` (as
        ``domain.privacy.erasure_address`` gives it) in the store, by table
        (:data:`CUSTOMER_TABLES`, each present, maybe empty), each row as its columns' JSON
        values (``domain.audit.plain``): their checkouts, orders, payment attempts and cases,
        and what hangs on these (the cases' events, reasons, steps, messages, the messages'
        events, coupons; the orders' shipments and their scans)."""
        ...

    def forget(self, store_id: str, email: str) -> dict[str, int]:
        """Delete the rows :meth:`rows_about` finds; how many of each table."""
        ...

    def deliveries_mentioning(self, store_id: str, email: str) -> Sequence[Delivery]:
        """The store's kept raw deliveries whose body holds ``email`` (in any case), oldest
        first."""
        ...

    def rewrite_delivery(
        self, delivery_id: int, *, body: bytes, status: str, error: str | None
    ) -> None: ...

    def keyed(self, address_key: str) -> str:
        """The keyed form of a suppression key (``domain.privacy.keyed_hash``) under this
        install's erasure key; ``ConfigError`` when the install has no secret key."""
        ...
