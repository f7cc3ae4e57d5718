"""SQLAlchemy repository for messages, their tracking events and what was sent to whom."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, func, insert, select, update
from sqlalchemy.orm import Session

from reclaim.adapters.db.repos.inserts import insert_many
from reclaim.adapters.db.tables import message_events, messages
from reclaim.domain.steps import DELIVERED, MessageRecord, MessageStatus
from reclaim.services.ports import SentMark

# SqlMessages.hand_over's two statements, per driver parameter style.
_HAND_OVER = {
    "qmark": (
        "UPDATE messages SET status = 'sent', sent_at = ?, provider_id = ?, segments = ?, "
        "error = NULL WHERE id = ? AND status = 'sending'",
        "UPDATE messages SET status = 'sending', subject = COALESCE(?, subject), "
        "text_body = COALESCE(?, text_body) WHERE id = ? AND status = 'queued'",
    ),
    "%s": (
        "UPDATE messages SET status = 'sent', sent_at = %s, provider_id = %s, segments = %s, "
        "error = NULL WHERE id = %s AND status = 'sending'",
        "UPDATE messages SET status = 'sending', subject = COALESCE(%s, subject), "
        "text_body = COALESCE(%s, text_body) WHERE id = %s AND status = 'queued'",
    ),
}


_BIND: dict[tuple[str, str, str], Any] = {}


def _bound(conn: Any, column: Any, value: Any) -> Any:
    """``value`` as the driver is given it for ``column`` (its type's bind processing), for
    SQL written out for the driver."""
    key = (conn.dialect.name, column.table.name, column.key)
    if key not in _BIND:
        _BIND[key] = column.type.bind_processor(conn.dialect) or (lambda v: v)
    return _BIND[key](value)


class SqlMessages:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, message: MessageRecord) -> None:
        self.s.add(message)
        self.s.flush()

    def add_many(self, records: Sequence[MessageRecord]) -> None:
        """Insert ``records`` (of distinct steps: one multi-row INSERT); their ids are set on
        return."""
        insert_many(self.s, messages, records, ("step_id",))

    def get(self, message_id: int) -> MessageRecord | None:
        return self.s.get(MessageRecord, message_id)

    def hand_over(
        self,
        message_id: int,
        *,
        sent: SentMark | None = None,
        subject: str | None = None,
        text_body: str | None = None,
    ) -> bool:
        """Mark a queued message ``sending`` with its rendered ``subject`` and ``text_body``
        (and the one before it ``sent``, when given) in two single-row UPDATEs; False when it
        is not queued any more (called back, or a lease sweep took its step), so it must not
        be sent. Both are kept from here on, so a message a crash leaves "possibly sent" has
        them.

        Runs once per message sent, so its SQL is written out for the driver: building and
        compiling the statements costs SQLAlchemy ~200 µs a message, the database ~10 µs."""
        conn = self.s.connection()
        mark_sent, mark_sending = _HAND_OVER[
            "qmark" if conn.dialect.paramstyle == "qmark" else "%s"
        ]
        if sent is not None:
            conn.exec_driver_sql(
                mark_sent,
                (
                    _bound(conn, messages.c.sent_at, sent.at),
                    sent.provider_id,
                    sent.segments,
                    sent.message_id,
                ),
            )
        res = conn.exec_driver_sql(mark_sending, (subject, text_body, message_id))
        return bool(res.rowcount)

    def call_back(self, case_id: int) -> int:
        res: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            update(MessageRecord)
            .where(messages.c.case_id == case_id, messages.c.status == MessageStatus.QUEUED)
            .values(status=MessageStatus.CANCELLED)
            .execution_options(synchronize_session="fetch")
        )
        return res.rowcount

    def get_many(self, message_ids: Sequence[int]) -> dict[int, MessageRecord]:
        if not message_ids:
            return {}
        found = self.s.scalars(
            select(MessageRecord).where(messages.c.id.in_(sorted(set(message_ids))))
        )
        return {m.id: m for m in found if m.id is not None}

    def by_step(self, step_id: int) -> MessageRecord | None:
        return self.s.scalars(select(MessageRecord).where(messages.c.step_id == step_id)).first()

    def by_steps(self, step_ids: Sequence[int]) -> dict[int, MessageRecord]:
        """Each step's message, for the steps that have one (a retry), in one query."""
        if not step_ids:
            return {}
        found = self.s.scalars(
            select(MessageRecord).where(messages.c.step_id.in_(sorted(set(step_ids))))
        )
        return {m.step_id: m for m in found}

    def for_case(self, case_id: int) -> Sequence[MessageRecord]:
        return self.s.scalars(
            select(MessageRecord).where(messages.c.case_id == case_id).order_by(messages.c.id)
        ).all()

    def by_header(self, store_id: str, header_id: str) -> MessageRecord | None:
        return self.s.scalars(
            select(MessageRecord).where(
                messages.c.store_id == store_id, messages.c.header_id == header_id
            )
        ).first()

    def last_to_address(self, store_id: str, customer_key: str) -> MessageRecord | None:
        return self.s.scalars(
            select(MessageRecord)
            .where(
                messages.c.store_id == store_id,
                messages.c.customer_key == customer_key,
                messages.c.channel == "email",
                messages.c.sent_at.is_not(None),
            )
            .order_by(messages.c.sent_at.desc())
            .limit(1)
        ).first()

    def last_sent_to(self, store_id: str, customer_key: str) -> datetime | None:
        """When this customer was last sent anything, on any channel (the frequency cap)."""
        value: datetime | None = self.s.execute(
            select(func.max(messages.c.sent_at)).where(
                messages.c.store_id == store_id,
                messages.c.customer_key == customer_key,
                messages.c.status.in_(list(DELIVERED)),
            )
        ).scalar()
        return value

    def last_sent_many(
        self, customers: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], datetime]:
        """:meth:`last_sent_to` of many ``(store_id, customer_key)`` at once (those never
        sent anything are absent); one query per store, on ``ix_messages_customer``."""
        by_store: dict[str, set[str]] = {}
        for store_id, key in customers:
            by_store.setdefault(store_id, set()).add(key)
        found: dict[tuple[str, str], datetime] = {}
        for store_id, keys in sorted(by_store.items()):
            rows = self.s.execute(
                select(messages.c.customer_key, func.max(messages.c.sent_at))
                .where(
                    messages.c.store_id == store_id,
                    messages.c.customer_key.in_(sorted(keys)),
                    messages.c.status.in_(list(DELIVERED)),
                )
                .group_by(messages.c.customer_key)
            )
            found.update({(store_id, r[0]): r[1] for r in rows if r[1] is not None})
        return found

    def add_event(
        self, message_id: int, *, store_id: str, type: str, at: datetime, data: dict[str, object]
    ) -> None:
        self.s.execute(
            insert(message_events).values(
                message_id=message_id, store_id=store_id, type=type, at=at, data=data
            )
        )

    def events(self, message_id: int) -> Sequence[tuple[datetime, str, dict[str, object]]]:
        rows = self.s.execute(
            select(message_events.c.at, message_events.c.type, message_events.c.data)
            .where(message_events.c.message_id == message_id)
            .order_by(message_events.c.id)
        )
        return [(r.at, r.type, r.data) for r in rows]

    def sent_count(self, store_id: str, *, since: datetime) -> int:
        return int(
            self.s.execute(
                select(func.count()).where(
                    messages.c.store_id == store_id,
                    messages.c.sent_at >= since,
                    messages.c.channel == "email",
                )
            ).scalar_one()
        )

    def event_count(self, store_id: str, type: str, *, since: datetime) -> int:
        return int(
            self.s.execute(
                select(func.count()).where(
                    message_events.c.store_id == store_id,
                    message_events.c.type == type,
                    message_events.c.at >= since,
                )
            ).scalar_one()
        )
