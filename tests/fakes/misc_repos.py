"""Fake repositories of suppressions, coupons, merchants' templates and alerts, with the SQL
ones' semantics (``add`` that ignores a taken key and says whether it added, issue order; a
suppression found under its key or under its keyed form, an erased customer's)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from fakes.base import Repo
from fakes.state import AlertRow, SuppressionRow, TemplateRow, clone_row, json_round_trip
from fakes.store_repos import by_id
from reclaim.domain.privacy import keyed_hash
from reclaim.domain.steps import Coupon
from reclaim.services.ports import TemplateVersion


class FakeSuppressions(Repo):
    def _keyed(self, address_key: str) -> str:
        return keyed_hash(self._uow.erasure_key, address_key)

    def _row(self, store_id: str, channel: str, address_key: str) -> SuppressionRow | None:
        """The entry under the key, else under its keyed form."""
        found = self.t.suppressions.get((store_id, channel, address_key))
        if found is None:
            found = self.t.suppressions.get((store_id, channel, self._keyed(address_key)))
        return found

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
        """True when the address was not suppressed before (a taken key is left as it is)."""
        key = (store_id, channel, address_key)
        if self._row(store_id, channel, address_key) is not None:
            return False
        self.t.suppressions[key] = SuppressionRow(
            self._next_id("suppressions"), reason, at, message_id
        )
        return True

    def reason(self, store_id: str, channel: str, address_key: str) -> str | None:
        found = self._row(store_id, channel, address_key)
        return None if found is None else found.reason

    def entry(self, store_id: str, channel: str, address_key: str) -> tuple[str, datetime] | None:
        found = self._row(store_id, channel, address_key)
        return None if found is None else (found.reason, found.created_at)

    def remove(self, store_id: str, channel: str, address_key: str) -> bool:
        gone = [
            self.t.suppressions.pop((store_id, channel, k), None)
            for k in (address_key, self._keyed(address_key))
        ]
        return any(g is not None for g in gone)

    def add_many(
        self, *, store_id: str, channel: str, address_keys: Sequence[str], reason: str, at: datetime
    ) -> int:
        added = 0
        for key in sorted(set(address_keys)):
            added += self.add(
                store_id=store_id,
                channel=channel,
                address_key=key,
                reason=reason,
                at=at,
                message_id=None,
            )
        return added

    def suppressed(self, keys: Iterable[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
        return {k for k in set(keys) if self._row(*k) is not None}

    def count(self, store_id: str) -> dict[str, int]:
        found: dict[str, int] = {}
        for (store, _, _), row in self.t.suppressions.items():
            if store == store_id:
                found[row.reason] = found.get(row.reason, 0) + 1
        return found


class FakeCoupons(Repo):
    def add(self, coupon: Coupon) -> bool:
        """False when the store has the code already. The row kept is a copy (the SQL one is
        a Core INSERT): ``coupon`` only gets its id."""
        if any(
            (c.store_id, c.code) == (coupon.store_id, coupon.code) for c in self.t.coupons.values()
        ):
            return False
        coupon.id = self._next_id("coupons")
        self.t.coupons[coupon.id] = clone_row(coupon)
        return True

    def for_case(self, case_id: int) -> Sequence[Coupon]:
        return [c for c in by_id(self.t.coupons) if c.case_id == case_id]

    def by_code(self, store_id: str, code: str) -> Coupon | None:
        return next(
            (c for c in by_id(self.t.coupons) if (c.store_id, c.code) == (store_id, code)), None
        )

    def by_platform_ref(self, store_id: str, ref: str) -> Coupon | None:
        return next(
            (c for c in by_id(self.t.coupons) if c.store_id == store_id and c.platform_ref == ref),
            None,
        )

    def get_many(self, ids: Sequence[int]) -> dict[int, Coupon]:
        return {i: self.t.coupons[i] for i in sorted(set(ids)) if i in self.t.coupons}

    def listed(
        self,
        store_id: str,
        *,
        push_state: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
        after_id: int = 0,
    ) -> Sequence[Coupon]:
        rows = [
            c
            for c in by_id(self.t.coupons)
            if c.store_id == store_id
            and (c.id or 0) > after_id
            and (
                push_state is None
                or (c.push_state is None if push_state == "none" else c.push_state == push_state)
            )
            and (since is None or c.created_at >= since)
        ]
        return rows[:limit]


class FakeTemplates(Repo):
    def get(self, store_id: str, key: str, channel: str, locale: str) -> dict[str, Any] | None:
        found = self.t.templates.get((store_id, key, channel, locale))
        return None if found is None else copy.deepcopy(found.compiled)

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
        self.t.templates[(store_id, key, channel, locale)] = TemplateRow(
            json_round_trip(compiled), now
        )

    def delete(self, *, store_id: str, key: str, channel: str, locale: str) -> bool:
        return self.t.templates.pop((store_id, key, channel, locale), None) is not None

    def listed(self, store_id: str) -> Sequence[tuple[str, str, str, datetime]]:
        return sorted(
            (key, channel, locale, row.updated_at)
            for (store, key, channel, locale), row in self.t.templates.items()
            if store == store_id
        )

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
    ) -> int:
        version_id = self._next_id("template_versions")
        self.t.template_versions[version_id] = TemplateVersion(
            version_id,
            store_id,
            key,
            channel,
            locale,
            None if compiled is None else json_round_trip(compiled),
            saved_at,
            saved_by[:120],
        )
        return version_id

    def versions(
        self, store_id: str, key: str, channel: str, locale: str, *, limit: int = 50
    ) -> Sequence[TemplateVersion]:
        mine = [
            copy.deepcopy(v)
            for v in reversed(by_id(self.t.template_versions))
            if (v.store_id, v.key, v.channel, v.locale) == (store_id, key, channel, locale)
        ]
        return mine[:limit]

    def version(self, version_id: int) -> TemplateVersion | None:
        found = self.t.template_versions.get(version_id)
        return None if found is None else copy.deepcopy(found)


class FakeAlerts(Repo):
    def add(self, *, store_id: str, at: datetime, type: str, data: dict[str, object]) -> None:
        alert_id = self._next_id("alerts")
        self.t.alerts[alert_id] = AlertRow(alert_id, store_id, at, type, json_round_trip(data))

    def _of(self, store_id: str) -> list[AlertRow]:
        return [a for a in reversed(by_id(self.t.alerts)) if a.store_id == store_id]

    def last(self, store_id: str, type: str) -> datetime | None:
        """When the store's latest alert of ``type`` (by id) was raised."""
        return next((a.at for a in self._of(store_id) if a.type == type), None)

    def recent(self, store_id: str, limit: int = 50) -> Sequence[tuple[datetime, str, Any]]:
        return [(a.at, a.type, copy.deepcopy(a.data)) for a in self._of(store_id)[:limit]]

    def of_type(self, store_id: str, type: str) -> Sequence[Any]:
        return [copy.deepcopy(a.data) for a in reversed(self._of(store_id)) if a.type == type]

    def unnotified(self, limit: int = 50) -> Sequence[tuple[int, str, datetime, str, Any]]:
        rows = [a for a in by_id(self.t.alerts) if a.notified_at is None][:limit]
        return [(a.id, a.store_id, a.at, a.type, copy.deepcopy(a.data)) for a in rows]

    def claim_notice(self, alert_id: int, at: datetime) -> bool:
        found = self.t.alerts.get(alert_id)
        if found is None or found.notified_at is not None:
            return False
        found.notified_at = at
        return True

    def release_notice(self, alert_id: int) -> None:
        found = self.t.alerts.get(alert_id)
        if found is not None:
            found.notified_at = None
