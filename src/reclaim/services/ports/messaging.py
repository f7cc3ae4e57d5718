"""Flows, steps, messages, suppressions, coupons, templates and alerts: the repositories of
what Reclaim sends."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from reclaim.domain.flows import Flow
from reclaim.domain.steps import Coupon, MessageRecord, ScheduledStep


@dataclass(frozen=True, slots=True)
class FlowVersion:
    id: int
    store_id: str
    kind: str
    version: int
    source: str
    flow: Flow
    created_at: datetime
    active: bool


class FlowRepository(Protocol):
    def get(self, flow_id: int) -> FlowVersion | None: ...
    def active(self, store_id: str, kind: str) -> FlowVersion | None: ...
    def list(self, store_id: str) -> Sequence[FlowVersion]: ...
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
        """A new version, numbered after the store's others of ``kind``; ``active``: it
        becomes the one new cases start (else it is an experiment's variant, run only by the
        cases assigned to it)."""
        ...


class StepRepository(Protocol):
    def add(self, step: ScheduledStep) -> None: ...
    def get(self, step_id: int, *, lock: bool = False) -> ScheduledStep | None: ...
    def get_many(
        self, step_ids: Sequence[int], *, lock: bool = False
    ) -> dict[int, ScheduledStep]: ...
    def claim(
        self, *, now: datetime, lease_until: datetime, limit: int, token: str
    ) -> Sequence[int]: ...
    def expired(self, *, now: datetime, limit: int) -> Sequence[ScheduledStep]: ...
    def for_case(self, case_id: int) -> Sequence[ScheduledStep]: ...
    def for_cases(self, case_ids: Sequence[int]) -> Sequence[ScheduledStep]: ...
    def cancel_pending(self, case_id: int, *, now: datetime, outcome: str) -> int: ...
    def counts(self, store_id: str | None = None) -> dict[str, int]: ...


@dataclass(frozen=True, slots=True)
class SentMark:
    """A message the channel took: recorded at once, before the group's record."""

    message_id: int
    at: datetime
    provider_id: str | None
    segments: int | None


class MessageRepository(Protocol):
    def add(self, message: MessageRecord) -> None: ...
    def add_many(self, records: Sequence[MessageRecord]) -> None: ...
    def get(self, message_id: int) -> MessageRecord | None: ...
    def get_many(self, message_ids: Sequence[int]) -> dict[int, MessageRecord]: ...
    def hand_over(
        self,
        message_id: int,
        *,
        sent: SentMark | None = None,
        subject: str | None = None,
        text_body: str | None = None,
    ) -> bool: ...
    def call_back(self, case_id: int) -> int:
        """Mark the case's ``queued`` messages ``cancelled`` (its flow stopped before they
        were handed to the channel); how many."""
        ...

    def by_step(self, step_id: int) -> MessageRecord | None: ...
    def by_steps(self, step_ids: Sequence[int]) -> dict[int, MessageRecord]: ...
    def last_sent_many(
        self, customers: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], datetime]: ...
    def for_case(self, case_id: int) -> Sequence[MessageRecord]: ...
    def by_header(self, store_id: str, header_id: str) -> MessageRecord | None: ...
    def last_to_address(self, store_id: str, customer_key: str) -> MessageRecord | None: ...
    def last_sent_to(self, store_id: str, customer_key: str) -> datetime | None: ...
    def add_event(
        self, message_id: int, *, store_id: str, type: str, at: datetime, data: dict[str, object]
    ) -> None: ...
    def events(self, message_id: int) -> Sequence[tuple[datetime, str, dict[str, object]]]: ...
    def sent_count(self, store_id: str, *, since: datetime) -> int: ...
    def event_count(self, store_id: str, type: str, *, since: datetime) -> int: ...


class SuppressionRepository(Protocol):
    def add(
        self,
        *,
        store_id: str,
        channel: str,
        address_key: str,
        reason: str,
        at: datetime,
        message_id: int | None,
    ) -> bool: ...
    def reason(self, store_id: str, channel: str, address_key: str) -> str | None: ...
    def entry(
        self, store_id: str, channel: str, address_key: str
    ) -> tuple[str, datetime] | None: ...
    def remove(self, store_id: str, channel: str, address_key: str) -> bool: ...
    def add_many(
        self, *, store_id: str, channel: str, address_keys: Sequence[str], reason: str, at: datetime
    ) -> int: ...
    def suppressed(self, keys: Iterable[tuple[str, str, str]]) -> set[tuple[str, str, str]]: ...
    def count(self, store_id: str) -> dict[str, int]: ...


class CouponRepository(Protocol):
    def add(self, coupon: Coupon) -> bool: ...
    def for_case(self, case_id: int) -> Sequence[Coupon]: ...
    def by_code(self, store_id: str, code: str) -> Coupon | None: ...
    def by_platform_ref(self, store_id: str, ref: str) -> Coupon | None: ...
    def get_many(self, ids: Sequence[int]) -> dict[int, Coupon]: ...
    def listed(
        self,
        store_id: str,
        *,
        push_state: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
        after_id: int = 0,
    ) -> Sequence[Coupon]: ...


@dataclass(frozen=True, slots=True)
class TemplateVersion:
    """What a store's template was after one save (``compiled`` None: after a reset to the
    default), who saved it and when (``template_versions``)."""

    id: int
    store_id: str
    key: str
    channel: str
    locale: str
    compiled: dict[str, Any] | None
    saved_at: datetime
    saved_by: str


class TemplateRepository(Protocol):
    def get(self, store_id: str, key: str, channel: str, locale: str) -> dict[str, Any] | None: ...
    def listed(self, store_id: str) -> Sequence[tuple[str, str, str, datetime]]:
        """The store's own templates: (key, channel, locale, updated_at), by key."""
        ...

    def add_version(
        self,
        *,
        store_id: str,
        key: str,
        channel: str,
        locale: str,
        compiled: dict[str, Any] | None,
        saved_at: datetime,
        saved_by: str,
    ) -> int: ...
    def versions(
        self, store_id: str, key: str, channel: str, locale: str, *, limit: int = 50
    ) -> Sequence[TemplateVersion]:
        """The template's versions, newest first (by id)."""
        ...

    def version(self, version_id: int) -> TemplateVersion | None: ...
    def put(
        self,
        *,
        store_id: str,
        key: str,
        channel: str,
        locale: str,
        compiled: dict[str, Any],
        now: datetime,
    ) -> None: ...
    def delete(self, *, store_id: str, key: str, channel: str, locale: str) -> bool: ...


class AlertRepository(Protocol):
    def add(self, *, store_id: str, at: datetime, type: str, data: dict[str, object]) -> None: ...
    def last(self, store_id: str, type: str) -> datetime | None: ...
    def of_type(self, store_id: str, type: str) -> Sequence[Any]:
        """The data of each of the store's alerts of ``type``, oldest first."""
        ...

    def recent(self, store_id: str, limit: int = 50) -> Sequence[tuple[datetime, str, Any]]: ...
    def unnotified(self, limit: int = 50) -> Sequence[tuple[int, str, datetime, str, Any]]: ...
    def claim_notice(self, alert_id: int, at: datetime) -> bool: ...
    def release_notice(self, alert_id: int) -> None: ...
