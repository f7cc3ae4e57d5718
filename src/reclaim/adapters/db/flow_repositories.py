"""SQLAlchemy repositories for flows, steps, messages, tracking, suppressions and coupons."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import CursorResult, Engine, Table, func, insert, select, update
from sqlalchemy.orm import Session, make_transient_to_detached

from reclaim.adapters.db.dialect import claim_update, is_postgres, many_rows, upsert
from reclaim.adapters.db.tables import (
    alerts,
    coupons,
    flows,
    message_events,
    messages,
    steps,
    suppressions,
    templates,
)
from reclaim.domain.flows import Flow, parse_flow
from reclaim.domain.steps import (
    DELIVERED,
    PENDING_STEP,
    Coupon,
    MessageRecord,
    MessageStatus,
    ScheduledStep,
    StepStatus,
)
from reclaim.services.ports import FlowVersion, SentMark

_is_pg = is_postgres


def _insert_ignore(s: Session, table: Any) -> Any:
    return upsert(s, table).on_conflict_do_nothing()


# SqlMessages.hand_over's two statements, per driver parameter style.
_HAND_OVER = {
    "qmark": (
        "UPDATE messages SET status = 'sent', sent_at = ?, provider_id = ?, segments = ?, "
        "error = NULL WHERE id = ? AND status = 'sending'",
        "UPDATE messages SET status = 'sending', subject = COALESCE(?, subject) "
        "WHERE id = ? AND status = 'queued'",
    ),
    "%s": (
        "UPDATE messages SET status = 'sent', sent_at = %s, provider_id = %s, segments = %s, "
        "error = NULL WHERE id = %s AND status = 'sending'",
        "UPDATE messages SET status = 'sending', subject = COALESCE(%s, subject) "
        "WHERE id = %s AND status = 'queued'",
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


def _insert_many(s: Session, table: Table, records: Sequence[Any], key: Sequence[str]) -> None:
    """Insert mapped ``records`` of ``table`` and make them the session's, as if loaded.

    The ORM writes such rows one ``INSERT … RETURNING id`` each on SQLite (it cannot tell
    which returned row is which); here they go in multi-row statements whose returned ids are
    matched back by the ``key`` columns, which must tell the records apart (else, or for a
    single record, the ORM's own way is used)."""
    keys = [tuple(getattr(r, k) for k in key) for r in records]
    if len(records) < 2 or len(set(keys)) != len(keys) or any(None in k for k in keys):
        s.add_all(records)
        s.flush()
        return
    columns = [c.key for c in table.columns if c.key != "id"]
    rows = [{k: getattr(r, k) for k in columns} for r in records]
    # executemany with RETURNING: SQLAlchemy batches it into multi-row statements
    # ("insertmanyvalues") from one cached compiled form.
    returned = s.execute(
        insert(table)
        .returning(*(table.c[k] for k in key), table.c.id)
        .execution_options(**many_rows(s, table)),
        rows,
    )
    ids = {tuple(row[:-1]): row[-1] for row in returned}
    for record, record_key in zip(records, keys, strict=True):
        record.id = ids[record_key]
        make_transient_to_detached(record)
        s.add(record)


@functools.lru_cache(maxsize=256)
def _parsed(flow_id: int, created_at: datetime, source: str, definition: str) -> Flow:
    """A version's parsed flow. Versions are never changed once written (a change is a new
    version), so the parse is kept; the key holds the stored text itself, so two databases
    whose rows share an id (tests, the simulator) never share an entry."""
    return parse_flow(orjson.loads(definition))


class SqlFlows:
    def __init__(self, session: Session) -> None:
        self.s = session
        self._seen: dict[int, FlowVersion] = {}  # this transaction's lookups

    @staticmethod
    def _of(row: Any) -> FlowVersion:
        return FlowVersion(
            id=row.id,
            store_id=row.store_id,
            kind=row.kind,
            version=row.version,
            source=row.source,
            flow=_parsed(row.id, row.created_at, row.source, orjson.dumps(row.definition).decode()),
            created_at=row.created_at,
            active=row.active,
        )

    def get(self, flow_id: int) -> FlowVersion | None:
        """A version by id; asked again in the same transaction, answered without a query
        (a version's content never changes; only ``active`` can, and only through
        :meth:`add`, which forgets what was seen)."""
        seen = self._seen.get(flow_id)
        if seen is not None:
            return seen
        row = self.s.execute(select(flows).where(flows.c.id == flow_id)).first()
        if row is None:
            return None
        found = self._seen[flow_id] = self._of(row)
        return found

    def active(self, store_id: str, kind: str) -> FlowVersion | None:
        row = self.s.execute(
            select(flows).where(
                flows.c.store_id == store_id, flows.c.kind == kind, flows.c.active.is_(True)
            )
        ).first()
        return None if row is None else self._of(row)

    def list(self, store_id: str) -> Sequence[FlowVersion]:
        rows = self.s.execute(
            select(flows)
            .where(flows.c.store_id == store_id)
            .order_by(flows.c.kind, flows.c.version.desc())
        )
        return [self._of(r) for r in rows]

    def add(
        self,
        *,
        store_id: str,
        kind: str,
        name: str,
        source: str,
        definition: dict[str, object],
        now: datetime,
    ) -> int:
        """A new active version; the previous one stays for the cases that run it."""
        self._seen.clear()
        if _is_pg(self.s):  # two saves at once must not both take the same version number
            self.s.execute(
                select(func.pg_advisory_xact_lock(func.hashtext(f"flows:{store_id}:{kind}")))
            )
        latest = self.s.execute(
            select(func.max(flows.c.version)).where(
                flows.c.store_id == store_id, flows.c.kind == kind
            )
        ).scalar()
        self.s.execute(
            update(flows)
            .where(flows.c.store_id == store_id, flows.c.kind == kind)
            .values(active=False)
        )
        return int(
            self.s.execute(
                insert(flows)
                .values(
                    store_id=store_id,
                    kind=kind,
                    version=(latest or 0) + 1,
                    name=name,
                    source=source,
                    definition=definition,
                    created_at=now,
                    active=True,
                )
                .returning(flows.c.id)
            ).scalar_one()
        )


class SqlSteps:
    """Steps added are kept until the next read of steps or the commit, then written
    together (:meth:`write`): a group of settled steps schedules its next ones in one
    INSERT. Only this repository reads or writes the ``steps`` table."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self._new: list[ScheduledStep] = []

    def add(self, step: ScheduledStep) -> None:
        self._new.append(step)

    def discard(self) -> None:
        """Forget the steps added since the last write (their transaction rolled back)."""
        self._new = []

    def write(self) -> None:
        """Insert the steps added since the last write (their ids are set)."""
        if self._new:
            pending, self._new = self._new, []
            _insert_many(self.s, steps, pending, ("case_id", "position"))

    def get(self, step_id: int, *, lock: bool = False) -> ScheduledStep | None:
        self.write()
        q = select(ScheduledStep).where(steps.c.id == step_id)
        if lock and _is_pg(self.s):
            q = q.with_for_update()
        return self.s.scalars(q).first()

    def get_many(self, step_ids: Sequence[int], *, lock: bool = False) -> dict[int, ScheduledStep]:
        """The steps of ``step_ids`` that exist, by id, in one query; with ``lock`` they are
        locked (PostgreSQL, in id order) and read afresh."""
        self.write()
        if not step_ids:
            return {}
        q = select(ScheduledStep).where(steps.c.id.in_(sorted(set(step_ids))))
        if lock and _is_pg(self.s):
            q = q.order_by(steps.c.id).with_for_update().execution_options(populate_existing=True)
        return {s.id: s for s in self.s.scalars(q) if s.id is not None}

    def claim(
        self, *, now: datetime, lease_until: datetime, limit: int, token: str
    ) -> Sequence[int]:
        """Take up to ``limit`` due steps, earliest first, for this worker alone.

        One conditional ``UPDATE … RETURNING`` over the ``(status, due_at)`` index: its cost
        depends on how many steps are due, not on how many are scheduled for later. On
        PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets many workers claim side by side.
        """
        self.write()
        pick = (
            select(steps.c.id)
            .where(steps.c.status == StepStatus.SCHEDULED, steps.c.due_at <= now)
            .order_by(steps.c.due_at, steps.c.id)
            .limit(limit)
        )
        # On SQLite writers are serialised, so the subquery's own status test suffices; a
        # second one outside makes SQLite scan every scheduled step through ix_steps_lease
        # instead of taking the ids it was given (×50 at 1M future steps, bench/send.py).
        still_scheduled = [steps.c.status == StepStatus.SCHEDULED] if _is_pg(self.s) else []
        ids = self.s.execute(
            claim_update(self.s, steps, pick, *still_scheduled)
            .values(
                status=StepStatus.CLAIMED,
                lease_until=lease_until,
                claim_token=token,
                attempts=steps.c.attempts + 1,
            )
            .returning(steps.c.id)
        ).scalars()
        return sorted(ids)

    def expired(self, *, now: datetime, limit: int) -> Sequence[ScheduledStep]:
        """Claimed or sending steps whose worker's lease ran out (it died or hung)."""
        self.write()
        q = (
            select(ScheduledStep)
            .where(
                steps.c.status.in_([StepStatus.CLAIMED, StepStatus.SENDING]),
                steps.c.lease_until < now,
            )
            .order_by(steps.c.lease_until)
            .limit(limit)
        )
        if _is_pg(self.s):
            q = q.with_for_update(skip_locked=True)
        return self.s.scalars(q).all()

    def for_case(self, case_id: int) -> Sequence[ScheduledStep]:
        self.write()
        return self.s.scalars(
            select(ScheduledStep).where(steps.c.case_id == case_id).order_by(steps.c.position)
        ).all()

    def for_cases(self, case_ids: Sequence[int]) -> Sequence[ScheduledStep]:
        """The steps of all ``case_ids`` (a page of cases), in one query."""
        self.write()
        if not case_ids:
            return []
        return self.s.scalars(
            select(ScheduledStep)
            .where(steps.c.case_id.in_(list(case_ids)))
            .order_by(steps.c.case_id, steps.c.position)
        ).all()

    def cancel_pending(self, case_id: int, *, now: datetime, outcome: str) -> int:
        """Cancel what has not started; a step already sending cannot be called back."""
        self.write()
        res: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            update(ScheduledStep)
            .where(steps.c.case_id == case_id, steps.c.status.in_(list(PENDING_STEP)))
            .values(status=StepStatus.CANCELLED, outcome=outcome, finished_at=now, lease_until=None)
            .execution_options(synchronize_session="fetch")
        )
        return res.rowcount

    def counts(self, store_id: str | None = None) -> dict[str, int]:
        self.write()
        q = select(steps.c.status, func.count()).group_by(steps.c.status)
        if store_id is not None:
            q = q.where(steps.c.store_id == store_id)
        return {status: int(n) for status, n in self.s.execute(q)}


class SqlMessages:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, message: MessageRecord) -> None:
        self.s.add(message)
        self.s.flush()

    def add_many(self, records: Sequence[MessageRecord]) -> None:
        """Insert ``records`` (of distinct steps: one multi-row INSERT); their ids are set on
        return."""
        _insert_many(self.s, messages, records, ("step_id",))

    def get(self, message_id: int) -> MessageRecord | None:
        return self.s.get(MessageRecord, message_id)

    def hand_over(
        self, message_id: int, *, sent: SentMark | None = None, subject: str | None = None
    ) -> bool:
        """Mark a queued message ``sending`` with its rendered ``subject`` (and the one before
        it ``sent``, when given) in two single-row UPDATEs; False when it is not queued any
        more (called back, or a lease sweep took its step), so it must not be sent. The
        subject is kept from here on, so a message a crash leaves "possibly sent" has it.

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
        res = conn.exec_driver_sql(mark_sending, (subject, message_id))
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


class SqlSuppressions:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(
        self,
        *,
        store_id: str,
        channel: str,
        address_key: str,
        reason: str,
        at: datetime,
        message_id: int | None,
    ) -> bool:
        """True when the address was not suppressed before. (RETURNING tells: the rowcount of
        an ``ON CONFLICT DO NOTHING`` run through the session is -1 on PostgreSQL.)"""
        made = self.s.execute(
            _insert_ignore(self.s, suppressions)
            .values(
                store_id=store_id,
                channel=channel,
                address_key=address_key,
                reason=reason,
                created_at=at,
                message_id=message_id,
            )
            .returning(suppressions.c.id)
        ).scalar()
        return made is not None

    def entry(self, store_id: str, channel: str, address_key: str) -> tuple[str, datetime] | None:
        """The entry's reason and since when, or None."""
        row = self.s.execute(
            select(suppressions.c.reason, suppressions.c.created_at).where(
                suppressions.c.store_id == store_id,
                suppressions.c.channel == channel,
                suppressions.c.address_key == address_key,
            )
        ).first()
        return None if row is None else (row.reason, row.created_at)

    def remove(self, store_id: str, channel: str, address_key: str) -> bool:
        res: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            suppressions.delete().where(
                suppressions.c.store_id == store_id,
                suppressions.c.channel == channel,
                suppressions.c.address_key == address_key,
            )
        )
        return bool(res.rowcount)

    def add_many(
        self, *, store_id: str, channel: str, address_keys: Sequence[str], reason: str, at: datetime
    ) -> int:
        """Add the keys not there yet (500 rows a statement); how many were new (RETURNING
        names the rows written: ``ON CONFLICT DO NOTHING`` skips the others)."""
        added = 0
        for start in range(0, len(address_keys), 500):
            rows = [
                {
                    "store_id": store_id,
                    "channel": channel,
                    "address_key": key,
                    "reason": reason,
                    "created_at": at,
                    "message_id": None,
                }
                for key in sorted(set(address_keys[start : start + 500]))
            ]
            made = self.s.execute(
                _insert_ignore(self.s, suppressions).returning(suppressions.c.id), rows
            )
            added += len(made.all())
        return added

    def reason(self, store_id: str, channel: str, address_key: str) -> str | None:
        value: str | None = self.s.execute(
            select(suppressions.c.reason).where(
                suppressions.c.store_id == store_id,
                suppressions.c.channel == channel,
                suppressions.c.address_key == address_key,
            )
        ).scalar()
        return value

    def suppressed(self, keys: Iterable[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
        """Which of the ``(store_id, channel, address_key)`` are suppressed: one query per
        store."""
        asked = set(keys)
        by_store: dict[str, tuple[set[str], set[str]]] = {}
        for store_id, channel, key in asked:
            channels, wanted = by_store.setdefault(store_id, (set(), set()))
            channels.add(channel)
            wanted.add(key)
        found: set[tuple[str, str, str]] = set()
        for store_id, (channels, wanted) in sorted(by_store.items()):
            rows = self.s.execute(
                select(suppressions.c.channel, suppressions.c.address_key).where(
                    suppressions.c.store_id == store_id,
                    suppressions.c.channel.in_(sorted(channels)),
                    suppressions.c.address_key.in_(sorted(wanted)),
                )
            )
            found.update((store_id, r[0], r[1]) for r in rows)
        return found & asked

    def count(self, store_id: str) -> dict[str, int]:
        rows = self.s.execute(
            select(suppressions.c.reason, func.count())
            .where(suppressions.c.store_id == store_id)
            .group_by(suppressions.c.reason)
        )
        return {r: int(n) for r, n in rows}


class SqlCoupons:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, coupon: Coupon) -> bool:
        """False when the code is taken (the caller draws another)."""
        res: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            _insert_ignore(self.s, coupons)
            .values(
                store_id=coupon.store_id,
                case_id=coupon.case_id,
                code=coupon.code,
                kind=coupon.kind,
                value=coupon.value,
                discount=coupon.discount,
                currency=coupon.currency,
                min_order=coupon.min_order,
                expires_at=coupon.expires_at,
                created_at=coupon.created_at,
            )
            .returning(coupons.c.id)
        )
        found = res.scalar()
        if found is None:
            return False
        coupon.id = int(found)
        return True

    def for_case(self, case_id: int) -> Sequence[Coupon]:
        return self.s.scalars(
            select(Coupon).where(coupons.c.case_id == case_id).order_by(coupons.c.id)
        ).all()

    def by_code(self, store_id: str, code: str) -> Coupon | None:
        return self.s.scalars(
            select(Coupon).where(coupons.c.store_id == store_id, coupons.c.code == code)
        ).first()

    def by_platform_ref(self, store_id: str, ref: str) -> Coupon | None:
        return self.s.scalars(
            select(Coupon).where(coupons.c.store_id == store_id, coupons.c.platform_ref == ref)
        ).first()

    def get_many(self, ids: Sequence[int]) -> dict[int, Coupon]:
        if not ids:
            return {}
        found = self.s.scalars(select(Coupon).where(coupons.c.id.in_(sorted(set(ids))))).all()
        return {c.id: c for c in found if c.id is not None}

    def listed(
        self,
        store_id: str,
        *,
        push_state: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
        after_id: int = 0,
    ) -> Sequence[Coupon]:
        """A store's coupons in issue order (``after_id``: the page after that id);
        ``push_state="none"`` selects those not tried yet."""
        q = select(Coupon).where(coupons.c.store_id == store_id, coupons.c.id > after_id)
        if push_state == "none":
            q = q.where(coupons.c.push_state.is_(None))
        elif push_state is not None:
            q = q.where(coupons.c.push_state == push_state)
        if since is not None:
            q = q.where(coupons.c.created_at >= since)
        return self.s.scalars(q.order_by(coupons.c.id).limit(limit)).all()


class SqlTemplates:
    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, store_id: str, key: str, channel: str, locale: str) -> dict[str, Any] | None:
        value: dict[str, Any] | None = self.s.execute(
            select(templates.c.compiled).where(
                templates.c.store_id == store_id,
                templates.c.key == key,
                templates.c.channel == channel,
                templates.c.locale == locale,
            )
        ).scalar()
        return value

    def put(
        self,
        *,
        store_id: str,
        key: str,
        channel: str,
        locale: str,
        compiled: dict[str, Any],
        now: datetime,
    ) -> None:
        done = self.s.execute(
            update(templates)
            .where(
                templates.c.store_id == store_id,
                templates.c.key == key,
                templates.c.channel == channel,
                templates.c.locale == locale,
            )
            .values(compiled=compiled, updated_at=now)
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            self.s.execute(
                insert(templates).values(
                    store_id=store_id,
                    key=key,
                    channel=channel,
                    locale=locale,
                    compiled=compiled,
                    updated_at=now,
                )
            )

    def delete(self, *, store_id: str, key: str, channel: str, locale: str) -> bool:
        res: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            templates.delete().where(
                templates.c.store_id == store_id,
                templates.c.key == key,
                templates.c.channel == channel,
                templates.c.locale == locale,
            )
        )
        return bool(res.rowcount)


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


class SqlAlerts:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, *, store_id: str, at: datetime, type: str, data: dict[str, object]) -> None:
        self.s.execute(insert(alerts).values(store_id=store_id, at=at, type=type, data=data))

    def last(self, store_id: str, type: str) -> datetime | None:
        value: datetime | None = self.s.execute(
            select(alerts.c.at)
            .where(alerts.c.store_id == store_id, alerts.c.type == type)
            .order_by(alerts.c.id.desc())
            .limit(1)
        ).scalar()
        return value

    def unnotified(self, limit: int = 50) -> Sequence[tuple[int, str, datetime, str, Any]]:
        """Alerts whose operators were not told yet, oldest first: (id, store, at, type, data)."""
        rows = self.s.execute(
            select(alerts.c.id, alerts.c.store_id, alerts.c.at, alerts.c.type, alerts.c.data)
            .where(alerts.c.notified_at.is_(None))
            .order_by(alerts.c.id)
            .limit(limit)
        )
        return [(r.id, r.store_id, r.at, r.type, r.data) for r in rows]

    def claim_notice(self, alert_id: int, at: datetime) -> bool:
        """Take the alert's notice for this worker (no other sends it); False: already taken."""
        res: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            update(alerts)
            .where(alerts.c.id == alert_id, alerts.c.notified_at.is_(None))
            .values(notified_at=at)
        )
        return res.rowcount == 1

    def release_notice(self, alert_id: int) -> None:
        """Give a claimed notice back (it could not be sent now): the next round tries again."""
        self.s.execute(update(alerts).where(alerts.c.id == alert_id).values(notified_at=None))

    def recent(self, store_id: str, limit: int = 50) -> Sequence[tuple[datetime, str, Any]]:
        rows = self.s.execute(
            select(alerts.c.at, alerts.c.type, alerts.c.data)
            .where(alerts.c.store_id == store_id)
            .order_by(alerts.c.id.desc())
            .limit(limit)
        )
        return [(r.at, r.type, r.data) for r in rows]
