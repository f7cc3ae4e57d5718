"""Fake repositories of the audit log and of one customer's data, with the SQL ones'
semantics: entries newest first; a customer's rows found by their customer key or address,
what hangs on their cases and orders with them, deliveries found by the address in their
body in any case."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fakes.base import Repo
from fakes.state import FakeDelivery, clone_row, json_round_trip
from fakes.store_repos import by_id
from reclaim.domain.audit import AuditEntry, plain
from reclaim.domain.privacy import keyed_hash
from reclaim.services.ports import CUSTOMER_TABLES


class FakeAudit(Repo):
    def add(self, entry: AuditEntry) -> None:
        entry_id = self._next_id("audit_log")
        stored = AuditEntry(
            id=entry_id,
            at=entry.at,
            store_id=entry.store_id,
            actor=entry.actor,
            action=entry.action,
            subject=entry.subject,
            before=json_round_trip(entry.before),
            after=json_round_trip(entry.after),
        )
        self.t.audit_log[entry_id] = stored

    def list(
        self, *, store_id: str | None, limit: int, before_id: int | None = None
    ) -> Sequence[AuditEntry]:
        rows = [
            e
            for e in reversed(by_id(self.t.audit_log))
            if (store_id is None or e.store_id == store_id)
            and (before_id is None or (e.id or 0) < before_id)
        ]
        return rows[:limit]


def _row(value: object, **renamed: str) -> dict[str, Any]:
    found: dict[str, Any] = plain(value)
    for old, new in renamed.items():
        found[new] = found.pop(old)
    return found


class FakePrivacy(Repo):
    def _person(self, store_id: str, email: str) -> Callable[[Any], bool]:
        def theirs(row: Any) -> bool:
            return row.store_id == store_id and (
                row.customer_key == email or (row.email or "").lower() == email
            )

        return theirs

    def _found(self, store_id: str, email: str) -> dict[str, list[tuple[Any, Any]]]:
        """(key in the fake's table, row) by table, in :data:`CUSTOMER_TABLES` order."""
        t = self.t
        theirs = self._person(store_id, email)
        found_cases = [(k, c) for k, c in sorted(t.cases.items()) if theirs(c)]
        case_ids = {c.id for _, c in found_cases}
        found_messages = [
            (k, m)
            for k, m in sorted(t.messages.items())
            if m.store_id == store_id and (m.case_id in case_ids or m.customer_key == email)
        ]
        message_ids = {m.id for _, m in found_messages}
        found_orders = [(k, o) for k, o in sorted(t.orders.items()) if theirs(o)]
        order_ids = {o.external_id for _, o in found_orders}
        found_shipments = [
            (k, s)
            for k, s in sorted(t.shipments.items())
            if s.store_id == store_id and s.order_external_id in order_ids
        ]
        shipment_ids = {s.external_id for _, s in found_shipments}
        return {
            "message_events": [
                (k, e) for k, e in sorted(t.message_events.items()) if e.owner in message_ids
            ],
            "messages": found_messages,
            "steps": [(k, s) for k, s in sorted(t.steps.items()) if s.case_id in case_ids],
            "coupons": [(k, c) for k, c in sorted(t.coupons.items()) if c.case_id in case_ids],
            "case_events": [
                (k, e) for k, e in sorted(t.case_events.items()) if e.owner in case_ids
            ],
            "case_reasons": sorted(
                ((k, r) for k, r in t.case_reasons.items() if k[0] in case_ids),
                key=lambda kr: kr[1][0],
            ),
            "cases": found_cases,
            "shipment_scans": [
                (k, s)
                for k, s in sorted(t.scans.items())
                if s.store_id == store_id and s.shipment_external_id in shipment_ids
            ],
            "shipments": found_shipments,
            "payment_attempts": [(k, p) for k, p in sorted(t.payments.items()) if theirs(p)],
            "orders": found_orders,
            "checkouts": [(k, c) for k, c in sorted(t.checkouts.items()) if theirs(c)],
        }

    def rows_about(self, store_id: str, email: str) -> dict[str, list[dict[str, Any]]]:
        found = self._found(store_id, email)
        shown: dict[str, list[dict[str, Any]]] = {}
        for name in CUSTOMER_TABLES:
            if name in ("message_events", "case_events"):
                owner = "message_id" if name == "message_events" else "case_id"
                shown[name] = [_row(e, owner=owner) for _, e in found[name]]
            elif name == "case_reasons":
                shown[name] = [{"id": i} | _row(r) for _, (i, r) in found[name]]
            else:
                shown[name] = [_row(r) for _, r in found[name]]
        return shown

    def forget(self, store_id: str, email: str) -> dict[str, int]:
        tables = {"payment_attempts": "payments", "shipment_scans": "scans"}
        counts: dict[str, int] = {}
        for name, rows in self._found(store_id, email).items():
            table = self.t.table(tables.get(name, name))
            for key, _ in rows:
                del table[key]
            counts[name] = len(rows)
        return counts

    def deliveries_mentioning(self, store_id: str, email: str) -> Sequence[FakeDelivery]:
        return [
            clone_row(d)
            for d in by_id(self.t.inbox)
            if d.store_id == store_id and email in d.body.decode("utf-8", "replace").lower()
        ]

    def rewrite_delivery(
        self, delivery_id: int, *, body: bytes, status: str, error: str | None
    ) -> None:
        found = self.t.inbox.get(delivery_id)
        if found is not None:
            found.body, found.status, found.error, found.lease_until = body, status, error, None

    def keyed(self, address_key: str) -> str:
        return keyed_hash(self._uow.erasure_key, address_key)
