"""Pages: one Jinja2 environment (autoescaped, the templates under ``templates/``), the
filters every page uses (times in the operator's zone, money and numbers in their locale),
and :func:`page`, which renders a template for a signed-in operator with the layout's
context (their words, stores, CSRF token, the navigation)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_currency, format_decimal, format_percent
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from reclaim.entrypoints.console.words import Words

if TYPE_CHECKING:
    from reclaim.entrypoints.console.auth import Who

_BABEL = {"en": "en_US", "zh-CN": "zh_Hans_CN"}


def babel_locale(locale: str) -> str:
    return _BABEL.get(locale, "en_US")


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("reclaim.entrypoints.console", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,  # a misspelt name fails the page's test, not silently
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


class Formats:
    """Numbers, money and times for one operator: their locale and time zone."""

    def __init__(self, locale: str, timezone: str) -> None:
        self.locale = babel_locale(locale)
        self.zone = ZoneInfo(timezone)

    def when(self, at: datetime | None, style: str = "medium") -> str:
        if at is None:
            return "—"
        local = at.astimezone(self.zone)
        if style == "short":
            return format_datetime(local, "yyyy-MM-dd HH:mm", locale=self.locale)
        return format_datetime(local, "medium", tzinfo=self.zone, locale=self.locale)

    def iso(self, at: datetime | None) -> str:
        return "" if at is None else at.astimezone(UTC).isoformat()

    def money(self, amount: Decimal | float | str | None, currency: str) -> str:
        if amount is None:
            return "—"
        return format_currency(Decimal(str(amount)), currency, locale=self.locale)

    def number(self, value: float | int | Decimal | None, digits: int = 0) -> str:
        if value is None:
            return "—"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def percent(self, value: float | None, digits: int = 1) -> str:
        if value is None:
            return "—"
        pattern = "#,##0" + ("." + "0" * digits if digits else "") + " %"
        return format_percent(value, format=pattern, locale=self.locale)


# The navigation, in groups: (section key, path, words key, verb needed to see it).
NAV: list[tuple[str, list[tuple[str, str, str, str]]]] = [
    (
        "nav.group.work",
        [
            ("dashboard", "/console/dashboard", "nav.dashboard", "read"),
            ("queue", "/console/queue", "nav.queue", "read"),
            ("customers", "/console/customers", "nav.customers", "read"),
        ],
    ),
    (
        "nav.group.messages",
        [
            ("flows", "/console/flows", "nav.flows", "read"),
            ("templates", "/console/templates", "nav.templates", "read"),
            ("experiments", "/console/experiments", "nav.experiments", "read"),
            ("coupons", "/console/coupons", "nav.coupons", "read"),
            ("suppressions", "/console/suppressions", "nav.suppressions", "read"),
        ],
    ),
    (
        "nav.group.operations",
        [
            ("stock", "/console/stock", "nav.stock", "read"),
            ("logistics", "/console/logistics", "nav.logistics", "read"),
            ("inbox", "/console/inbox", "nav.inbox", "read"),
            ("alerts", "/console/alerts", "nav.alerts", "read"),
            ("reports", "/console/reports", "nav.reports", "read"),
        ],
    ),
    (
        "nav.group.admin",
        [
            ("settings", "/console/settings", "nav.settings", "read"),
            ("audit", "/console/audit", "nav.audit", "admin"),
        ],
    ),
]


def page(
    request: Request,
    who: Who | None,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    section: str = "",
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """``template`` rendered with the layout's context: ``t`` (words), ``f`` (formats),
    ``who``, ``csrf``, ``nav``, ``section`` (the nav entry to mark), ``path``."""
    locale = (
        who.user.locale
        if who is not None
        else getattr(request.state, "locale", None) or request.cookies.get("reclaim_locale", "en")
    )
    words = Words(locale)
    formats = Formats(words.locale, who.user.timezone if who is not None else "UTC")
    ctx: dict[str, Any] = {
        "t": words,
        "f": formats,
        "locale": words.locale,
        "who": who,
        "csrf": who.session.csrf if who is not None else "",
        "nav": NAV,
        "section": section,
        "path": request.url.path,
        "query": request.url.query,
    }
    ctx.update(context or {})
    html = environment().get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
