"""SQLAlchemy repositories for flows, steps, messages, tracking, suppressions and coupons."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, Engine, func, insert, select, update
from sqlalchemy.orm import Session

from reclaim.adapters.db.dialect import is_postgres, upsert
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
from reclaim.domain.flows import parse_flow
from reclaim.domain.steps import (
    DELIVERED,
    PENDING_STEP,
    Coupon,
    MessageRecord,
    ScheduledStep,
    StepStatus,
)
from reclaim.services.ports import FlowVersion

_is_pg = is_postgres


def _insert_ignore(s: Session, table: Any) -> Any:
    return upsert(s, table).on_conflict_do_nothing()


class SqlFlows:
    def __init__(self, session: Session) -> None:
        self.s = session

    @staticmethod
    def _of(row: Any) -> FlowVersion:
        return FlowVersion(
            id=row.id,
            store_id=row.store_id,
            kind=row.kind,
            version=row.version,
            source=row.source,
            flow=parse_flow(row.definition),
            created_at=row.created_at,
            active=row.active,
        )

    def get(self, flow_id: int) -> FlowVersion | None:
        row = self.s.execute(select(flows).where(flows.c.id == flow_id)).first()
        return None if row is None else self._of(row)

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
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, step: ScheduledStep) -> None:
        self.s.add(step)
        self.s.flush()

    def get(self, step_id: int, *, lock: bool = False) -> ScheduledStep | None:
        q = select(ScheduledStep).where(steps.c.id == step_id)
        if lock and _is_pg(self.s):
            q = q.with_for_update()
        return self.s.scalars(q).first()

    def claim(
        self, *, now: datetime, lease_until: datetime, limit: int, token: str
    ) -> Sequence[int]:
        """Take up to ``limit`` due steps, earliest first, for this worker alone.

        One conditional ``UPDATE … RETURNING`` over the ``(status, due_at)`` index: its cost
        depends on how many steps are due, not on how many are scheduled for later. On
        PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets many workers claim side by side.
        """
        pick = (
            select(steps.c.id)
            .where(steps.c.status == StepStatus.SCHEDULED, steps.c.due_at <= now)
            .order_by(steps.c.due_at, steps.c.id)
            .limit(limit)
        )
        still_scheduled = []
        if _is_pg(self.s):
            pick = pick.with_for_update(skip_locked=True)
            still_scheduled = [steps.c.status == StepStatus.SCHEDULED]
        # On SQLite writers are serialised, so the subquery's own status test suffices; a
        # second one outside makes SQLite scan every scheduled step through ix_steps_lease
        # instead of taking the ids it was given (×50 at 1M future steps, bench/send.py).
        ids = self.s.execute(
            update(steps)
            .where(steps.c.id.in_(pick.scalar_subquery()), *still_scheduled)
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
        return self.s.scalars(
            select(ScheduledStep).where(steps.c.case_id == case_id).order_by(steps.c.position)
        ).all()

    def cancel_pending(self, case_id: int, *, now: datetime, outcome: str) -> int:
        """Cancel what has not started; a step already sending cannot be called back."""
        res: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            update(ScheduledStep)
            .where(steps.c.case_id == case_id, steps.c.status.in_(list(PENDING_STEP)))
            .values(status=StepStatus.CANCELLED, outcome=outcome, finished_at=now, lease_until=None)
            .execution_options(synchronize_session="fetch")
        )
        return res.rowcount

    def counts(self, store_id: str | None = None) -> dict[str, int]:
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

    def get(self, message_id: int) -> MessageRecord | None:
        return self.s.get(MessageRecord, message_id)

    def by_step(self, step_id: int) -> MessageRecord | None:
        return self.s.scalars(select(MessageRecord).where(messages.c.step_id == step_id)).first()

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
        """True when the address was not suppressed before."""
        res: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            _insert_ignore(self.s, suppressions).values(
                store_id=store_id,
                channel=channel,
                address_key=address_key,
                reason=reason,
                created_at=at,
                message_id=message_id,
            )
        )
        return bool(res.rowcount)

    def reason(self, store_id: str, channel: str, address_key: str) -> str | None:
        value: str | None = self.s.execute(
            select(suppressions.c.reason).where(
                suppressions.c.store_id == store_id,
                suppressions.c.channel == channel,
                suppressions.c.address_key == address_key,
            )
        ).scalar()
        return value

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

    def recent(self, store_id: str, limit: int = 50) -> Sequence[tuple[datetime, str, Any]]:
        rows = self.s.execute(
            select(alerts.c.at, alerts.c.type, alerts.c.data)
            .where(alerts.c.store_id == store_id)
            .order_by(alerts.c.id.desc())
            .limit(limit)
        )
        return [(r.at, r.type, r.data) for r in rows]
