"""Fake repositories of flow versions, scheduled steps and messages (SPEC S3-S5), with the
SQL ones' semantics: versions numbered per store and kind, steps claimed earliest first under
a lease, a message handed over only while it is ``queued``."""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable, Sequence
from datetime import datetime

import orjson

from fakes.base import Repo
from fakes.state import EventRow, FlowRow, UniqueViolation, json_round_trip
from fakes.store_repos import by_id
from reclaim.domain.flows import Flow, parse_flow
from reclaim.domain.steps import (
    DELIVERED,
    PENDING_STEP,
    MessageRecord,
    MessageStatus,
    ScheduledStep,
    StepStatus,
)
from reclaim.services.ports import FlowVersion, SentMark


@functools.lru_cache(maxsize=256)
def _parsed(definition: str) -> Flow:
    return parse_flow(orjson.loads(definition))


def _version(row: FlowRow) -> FlowVersion:
    return FlowVersion(
        id=row.id,
        store_id=row.store_id,
        kind=row.kind,
        version=row.version,
        source=row.source,
        flow=_parsed(orjson.dumps(row.definition).decode()),
        created_at=row.created_at,
        active=row.active,
    )


class FakeFlows(Repo):
    def get(self, flow_id: int) -> FlowVersion | None:
        row = self.t.flows.get(flow_id)
        return None if row is None else _version(row)

    def active(self, store_id: str, kind: str) -> FlowVersion | None:
        row = next(
            (
                r
                for r in by_id(self.t.flows)
                if r.store_id == store_id and r.kind == kind and r.active
            ),
            None,
        )
        return None if row is None else _version(row)

    def list(self, store_id: str) -> Sequence[FlowVersion]:
        rows = [r for r in self.t.flows.values() if r.store_id == store_id]
        return [_version(r) for r in sorted(rows, key=lambda r: (r.kind, -r.version))]

    def add(
        self,
        *,
        store_id: str,
        kind: str,
        name: str,
        source: str,
        definition: dict[str, object],
        now: datetime,
        active: bool = True,
    ) -> int:
        """A new version; an active one makes the previous ones inactive."""
        mine = [r for r in self.t.flows.values() if r.store_id == store_id and r.kind == kind]
        for r in mine:
            r.active = r.active and not active
        row = FlowRow(
            id=self._next_id("flows"),
            store_id=store_id,
            kind=kind,
            version=max((r.version for r in mine), default=0) + 1,
            name=name,
            source=source,
            definition=json_round_trip(definition),
            created_at=now,
            active=active,
        )
        self.t.flows[row.id] = row
        return row.id


class FakeSteps(Repo):
    def add(self, step: ScheduledStep) -> None:
        """Kept at once with its id (the SQL repository writes a group's steps together, at
        the next read of steps or the commit: nothing a service sees tells the two apart)."""
        if any(
            (s.case_id, s.position) == (step.case_id, step.position) for s in self.t.steps.values()
        ):
            raise UniqueViolation(f"steps: case {step.case_id} has position {step.position}")
        step.id = self._next_id("steps")
        self.t.steps[step.id] = step

    def get(self, step_id: int, *, lock: bool = False) -> ScheduledStep | None:
        return self.t.steps.get(step_id)

    def get_many(self, step_ids: Sequence[int], *, lock: bool = False) -> dict[int, ScheduledStep]:
        return {i: self.t.steps[i] for i in sorted(set(step_ids)) if i in self.t.steps}

    def claim(
        self, *, now: datetime, lease_until: datetime, limit: int, token: str
    ) -> Sequence[int]:
        """Up to ``limit`` due ``scheduled`` steps, earliest first (then by id), claimed."""
        due = [
            s for s in self.t.steps.values() if s.status == StepStatus.SCHEDULED and s.due_at <= now
        ]
        picked = sorted(due, key=lambda s: (s.due_at, s.id))[:limit]
        for s in picked:
            s.status, s.lease_until, s.claim_token = StepStatus.CLAIMED, lease_until, token
            s.attempts += 1
        return sorted(s.id for s in picked if s.id is not None)

    def expired(self, *, now: datetime, limit: int) -> Sequence[ScheduledStep]:
        """Claimed or sending steps whose lease ran out, the longest expired first."""
        gone = [
            s
            for s in self.t.steps.values()
            if s.status in (StepStatus.CLAIMED, StepStatus.SENDING)
            and s.lease_until is not None
            and s.lease_until < now
        ]
        return sorted(gone, key=lambda s: (s.lease_until, s.id))[:limit]

    def for_case(self, case_id: int) -> Sequence[ScheduledStep]:
        return sorted(
            (s for s in self.t.steps.values() if s.case_id == case_id), key=lambda s: s.position
        )

    def for_cases(self, case_ids: Sequence[int]) -> Sequence[ScheduledStep]:
        wanted = set(case_ids)
        return sorted(
            (s for s in self.t.steps.values() if s.case_id in wanted),
            key=lambda s: (s.case_id, s.position),
        )

    def cancel_pending(self, case_id: int, *, now: datetime, outcome: str) -> int:
        """Cancel what has not started (scheduled, claimed); a step sending goes on."""
        n = 0
        for s in self.t.steps.values():
            if s.case_id == case_id and s.status in PENDING_STEP:
                s.status, s.outcome, s.finished_at = StepStatus.CANCELLED, outcome, now
                s.lease_until = None
                n += 1
        return n

    def counts(self, store_id: str | None = None) -> dict[str, int]:
        found: dict[str, int] = {}
        for s in self.t.steps.values():
            if store_id is None or s.store_id == store_id:
                found[str(s.status)] = found.get(str(s.status), 0) + 1
        return found


class FakeMessages(Repo):
    def add(self, message: MessageRecord) -> None:
        for m in self.t.messages.values():
            if m.step_id == message.step_id:
                raise UniqueViolation(f"messages: step {message.step_id} has a message")
            if message.header_id is not None and m.header_id == message.header_id:
                raise UniqueViolation(f"messages: header id {message.header_id!r} is taken")
        message.id = self._next_id("messages")
        self.t.messages[message.id] = message

    def add_many(self, records: Sequence[MessageRecord]) -> None:
        for record in records:
            self.add(record)

    def get(self, message_id: int) -> MessageRecord | None:
        return self.t.messages.get(message_id)

    def get_many(self, message_ids: Sequence[int]) -> dict[int, MessageRecord]:
        return {i: self.t.messages[i] for i in sorted(set(message_ids)) if i in self.t.messages}

    def hand_over(
        self,
        message_id: int,
        *,
        sent: SentMark | None = None,
        subject: str | None = None,
        text_body: str | None = None,
    ) -> bool:
        """Mark ``sent`` the one before (if still ``sending``), then this one ``sending`` if
        it is still ``queued``; whether it was."""
        if sent is not None:
            before = self.t.messages.get(sent.message_id)
            if before is not None and before.status == MessageStatus.SENDING:
                before.status, before.sent_at = MessageStatus.SENT, sent.at
                before.provider_id, before.segments, before.error = (
                    sent.provider_id,
                    sent.segments,
                    None,
                )
        found = self.t.messages.get(message_id)
        if found is None or found.status != MessageStatus.QUEUED:
            return False
        found.status = MessageStatus.SENDING
        found.subject = subject if subject is not None else found.subject
        found.text_body = text_body if text_body is not None else found.text_body
        return True

    def call_back(self, case_id: int) -> int:
        n = 0
        for m in self.t.messages.values():
            if m.case_id == case_id and m.status == MessageStatus.QUEUED:
                m.status = MessageStatus.CANCELLED
                n += 1
        return n

    def by_step(self, step_id: int) -> MessageRecord | None:
        return next((m for m in by_id(self.t.messages) if m.step_id == step_id), None)

    def by_steps(self, step_ids: Sequence[int]) -> dict[int, MessageRecord]:
        wanted = set(step_ids)
        return {m.step_id: m for m in by_id(self.t.messages) if m.step_id in wanted}

    def _delivered(self, store_id: str, customer_key: str) -> list[datetime]:
        return [
            m.sent_at
            for m in self.t.messages.values()
            if m.store_id == store_id
            and m.customer_key == customer_key
            and m.status in DELIVERED
            and m.sent_at is not None
        ]

    def last_sent_many(
        self, customers: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], datetime]:
        found: dict[tuple[str, str], datetime] = {}
        for store_id, key in set(customers):
            times = self._delivered(store_id, key)
            if times:
                found[(store_id, key)] = max(times)
        return found

    def for_case(self, case_id: int) -> Sequence[MessageRecord]:
        return [m for m in by_id(self.t.messages) if m.case_id == case_id]

    def by_header(self, store_id: str, header_id: str) -> MessageRecord | None:
        return next(
            (
                m
                for m in by_id(self.t.messages)
                if m.store_id == store_id and m.header_id == header_id
            ),
            None,
        )

    def last_to_address(self, store_id: str, customer_key: str) -> MessageRecord | None:
        sent = [
            m
            for m in self.t.messages.values()
            if m.store_id == store_id
            and m.customer_key == customer_key
            and m.channel == "email"
            and m.sent_at is not None
        ]
        return max(sent, key=lambda m: (m.sent_at, m.id or 0), default=None)

    def last_sent_to(self, store_id: str, customer_key: str) -> datetime | None:
        return max(self._delivered(store_id, customer_key), default=None)

    def add_event(
        self, message_id: int, *, store_id: str, type: str, at: datetime, data: dict[str, object]
    ) -> None:
        event_id = self._next_id("message_events")
        self.t.message_events[event_id] = EventRow(
            event_id, message_id, store_id, at, type, json_round_trip(data)
        )

    def events(self, message_id: int) -> Sequence[tuple[datetime, str, dict[str, object]]]:
        return [
            (e.at, e.type, copy.deepcopy(e.data))
            for e in by_id(self.t.message_events)
            if e.owner == message_id
        ]

    def sent_count(self, store_id: str, *, since: datetime) -> int:
        return sum(
            1
            for m in self.t.messages.values()
            if m.store_id == store_id
            and m.channel == "email"
            and m.sent_at is not None
            and m.sent_at >= since
        )

    def event_count(self, store_id: str, type: str, *, since: datetime) -> int:
        return sum(
            1
            for e in self.t.message_events.values()
            if e.store_id == store_id and e.type == type and e.at >= since
        )
