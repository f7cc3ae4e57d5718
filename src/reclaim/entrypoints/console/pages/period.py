"""What the dashboard and the reports pages share: the store and the period a page is asked
for (``?store=&period=`` or ``?store=&from=&to=``), read in the store's time zone as
``reclaim report`` reads them, and the period's report, its faults kept for the form.

The period is a month (``2026-11``), an ISO week (``2026-W45``) or days ``from``/``to`` (the
end day not included); by default this month where the store is."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Depends, Query

from reclaim.bootstrap import Runtime
from reclaim.domain.stores import Store
from reclaim.entrypoints.console.auth import Who
from reclaim.entrypoints.console.pages.ops_support import pick
from reclaim.errors import InvalidInput, NotFound
from reclaim.services.reports import Report, build_report
from reclaim.services.reports.period import parse_day, parse_period

Text = Annotated[str, Query(max_length=40)]
From = Annotated[str, Query(alias="from", max_length=40)]
FIELDS = ("period", "from", "to")


@dataclass(frozen=True, slots=True)
class Asked:
    """The period as the operator asked for it (kept to show it back in the form)."""

    kind: str  # month | week | days
    period: str = ""  # 2026-11 or 2026-W45
    start_text: str = ""
    end_text: str = ""
    month: str | None = None
    start: date | None = None
    end: date | None = None
    errors: dict[str, str] = field(default_factory=dict)  # field -> words key

    def query(self, store_id: str) -> str:
        """The query string naming the store and this period."""
        if self.kind == "days":
            return urlencode({"store": store_id, "from": self.start_text, "to": self.end_text})
        return urlencode({"store": store_id, "period": self.period})

    def fail(self, exc: InvalidInput) -> None:
        """Mark the period field ``exc`` names (``period`` when it names none of them)."""
        where = exc.field if exc.field in FIELDS else "period"
        self.errors[where] = f"dashboard.bad.{where}"

    def check(self) -> None:
        """``InvalidInput`` (a 422) when the period cannot be read."""
        if self.errors:
            raise InvalidInput("the period cannot be read", field=next(iter(self.errors)))


@dataclass(frozen=True, slots=True)
class PeriodQuery:
    """A page's ``?store=&period=&from=&to=`` as typed."""

    store: str
    period: str
    start: str
    to: str


def _period_query(
    store: Text = "", period: Text = "", start: From = "", to: Text = ""
) -> PeriodQuery:
    return PeriodQuery(store, period, start, to)


Period = Annotated[PeriodQuery, Depends(_period_query)]


def this_month(store: Store, now: datetime) -> str:
    return now.astimezone(ZoneInfo(store.timezone)).strftime("%Y-%m")


def ask_period(store: Store, now: datetime, period: str, start: str, end: str) -> Asked:
    """The period of ``?period=`` (a month or an ISO week) or ``?from=&to=`` (days, the end
    day not included); this month where the store is when none is given. ``InvalidInput``
    names the field (period, from, to) of what cannot be read."""
    period, start, end = period.strip(), start.strip(), end.strip()
    if start or end:
        if period:
            raise InvalidInput("give a period or from/to, not both", field="period")
        first = parse_day(start, field="from")
        after = parse_day(end, field="to")
        return Asked("days", start_text=start, end_text=end, start=first, end=after)
    name, first, after = parse_period(period or this_month(store, now))
    if "W" in name:
        return Asked("week", period=name, start=first, end=after)
    return Asked("month", period=name, month=name)


def read_asked(store: Store, now: datetime, period: str, start: str, end: str) -> Asked:
    """:func:`ask_period`, its fault kept in the answer for the form rather than raised."""
    try:
        return ask_period(store, now, period, start, end)
    except InvalidInput as exc:
        asked = Asked(
            "days" if (start or end) else "month", period=period, start_text=start, end_text=end
        )
        asked.fail(exc)
        return asked


def asked_of(who: Who, now: datetime, q: PeriodQuery) -> tuple[Store, Asked] | None:
    """The store of ``?store=`` (404 unless the user sees it, the user's first by default)
    and the period asked for it; None when the user sees no store."""
    found = pick(who, q.store)
    if found is None:
        return None
    return found, read_asked(found, now, q.period, q.start, q.to)


def report_of(rt: Runtime, store: Store, asked: Asked, *, locale: str | None = None) -> Report:
    """The report of ``asked``; ``InvalidInput`` of a period field the form shows (a week's
    or a month's faults are its ``period``'s), ``NotFound`` for a store with no data."""
    try:
        return build_report(
            uow=rt.reader(),
            store_id=store.id,
            now=rt.clock(),
            month=asked.month,
            start=asked.start,
            end=asked.end,
            locale=locale,
        )
    except InvalidInput as exc:
        if asked.kind != "days" and exc.field in ("from", "to"):
            raise InvalidInput(str(exc), field="period") from None
        raise


def shown_report(
    rt: Runtime, store: Store, asked: Asked, *, locale: str | None = None
) -> tuple[dict[str, Any], Report | None]:
    """A page's context for ``asked`` (``store``, ``asked``, ``data`` None, ``nodata``) and
    its report: None when the period cannot be read (its field marked in ``asked``) or the
    store has no data (``nodata`` true)."""
    ctx: dict[str, Any] = {"store": store, "asked": asked, "data": None, "nodata": False}
    if asked.errors:
        return ctx, None
    try:
        return ctx, report_of(rt, store, asked, locale=locale)
    except NotFound:
        ctx["nodata"] = True
    except InvalidInput as exc:
        asked.fail(exc)
    return ctx, None


__all__ = [
    "Asked",
    "From",
    "Period",
    "PeriodQuery",
    "Text",
    "ask_period",
    "asked_of",
    "read_asked",
    "report_of",
    "shown_report",
    "this_month",
]
