"""``reclaim store``: connect stores, change their settings, list them and their alerts; and
``reclaim store key`` (in ``store_keys``): a store's API keys."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

import click
from rich.text import Text

from reclaim.domain.stores import REPORT_LOCALES, StoreSettings
from reclaim.entrypoints.cli.common import (
    actor,
    console,
    err_console,
    handled,
    runtime,
)
from reclaim.entrypoints.cli.store_keys import store_key
from reclaim.entrypoints.cli.store_trust import TRUST_SETTABLE
from reclaim.entrypoints.tables import print_table
from reclaim.services import alerts
from reclaim.services.stores import add_store, list_stores


@click.group()
def store() -> None:
    """Connect and list stores."""


@store.command("add")
@click.option("--name", required=True)
@click.option(
    "--platform", required=True, type=click.Choice(["shopify", "woocommerce", "stripe", "custom"])
)
@click.option("--currency", required=True, help="ISO 4217, e.g. EUR")
@click.option("--timezone", "tz", required=True, help="IANA zone, e.g. Europe/Paris")
@click.option("--domain", required=True, help="The shop's host name, e.g. shop.example")
@click.option("--webhook-secret", default="", help="The secret the platform signs webhooks with")
@click.option(
    "--abandonment-delay",
    type=click.IntRange(1, 7 * 24 * 60),
    default=30,
    show_default=True,
    help="Minutes of inactivity before a checkout counts as abandoned",
)
@click.option(
    "--test-email", "test_emails", multiple=True, help="An address whose orders are tests"
)
@click.option(
    "--test-domain", "test_domains", multiple=True, help="A domain whose orders are tests"
)
@click.option("--postal-address", default="", help="Shown in every email's footer (the law)")
@click.option("--sender-email", help="From address of messages (default shop@<domain>)")
@click.option("--support-email", help="Where customers can ask for help")
@click.option("--json", "as_json", is_flag=True, help="Print {id, api_key} as JSON")
@handled
def store_add(
    name: str,
    platform: str,
    currency: str,
    tz: str,
    domain: str,
    webhook_secret: str,
    abandonment_delay: int,
    test_emails: tuple[str, ...],
    test_domains: tuple[str, ...],
    postal_address: str,
    sender_email: str | None,
    support_email: str | None,
    as_json: bool,
) -> None:
    """Connect a store; prints its id and an API key (shown only once)."""
    from datetime import timedelta

    rt = runtime()
    settings = StoreSettings(
        abandonment_delay=timedelta(minutes=abandonment_delay),
        test_emails=tuple(e.lower() for e in test_emails),
        test_domains=tuple(d.lower() for d in test_domains),
        postal_address=postal_address,
        sender_email=sender_email,
        support_email=support_email,
    )
    created = add_store(
        uow=rt.uow(),
        name=name,
        platform=platform,
        currency=currency.upper(),
        timezone=tz,
        domain=domain,
        webhook_secret=webhook_secret,
        settings=settings,
        now=rt.clock(),
        actor=actor(rt),
    )
    if as_json:
        click.echo(json.dumps({"id": created.id, "api_key": created.api_key}))
        return
    base = rt.settings.public_url
    console.print(f"store [bold]{created.id}[/bold] created")
    console.print(f"API key (shown once): [bold]{created.api_key}[/bold]")
    if platform != "custom":
        console.print(f"webhook URL: {base}/webhooks/{platform}/{created.id}")
    console.print(f"events API:  {base}/api/v1/events")
    if not postal_address:
        err_console.print(
            "[yellow]note:[/yellow] no --postal-address: marketing email must show one "
            "(reclaim store set ID --postal-address …)"
        )


def _share(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise click.BadParameter(f"{text!r} is not a number such as 0.45") from None
    if not value.is_finite():
        raise click.BadParameter(f"{text!r} is not a number such as 0.45")
    return value


def _rates(given: tuple[str, ...]) -> dict[str, Decimal]:
    """``("USD=0.92", "GBP=1.17")`` as rates by currency; ``("",)``: none."""
    rates: dict[str, Decimal] = {}
    for item in given:
        if not item.strip():
            continue
        code, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not CUR=RATE such as USD=0.92")
        rates[code.strip().upper()] = _share(value.strip())
    return rates


_SETTABLE: dict[str, tuple[str, Callable[[str], object]]] = {
    "postal_address": ("Postal address for email footers", str),
    "payment_instructions": (
        "What customers need to pay by bank transfer, cash on delivery or cheque (account, "
        "reference; several lines are fine), shown in pending-order reminders",
        lambda v: v.replace("\r\n", "\n").strip(),
    ),
    "sender_email": ("From address", str),
    "sender_name": ("From name (default: the store's name)", str),
    "reply_to": ("Reply-To address", str),
    "support_email": ("Support email shown in messages", str),
    "support_phone": ("Support phone shown in messages", str),
    "logo_url": ("https URL of the logo in emails", str),
    "webhook_url": ("Endpoint of the outgoing webhook channel", str),
    "webhook_signing_secret": ("Secret the outgoing webhooks are signed with", str),
    "sms_sender": ("SMS sender id or number", str),
    "platform_api_url": (
        "Shopify admin or WooCommerce site URL (to cancel expired orders and create coupons)",
        str,
    ),
    "platform_api_token": (
        "Shopify access token, WooCommerce ck_…:cs_…, or a Stripe secret/restricted key",
        str,
    ),
    "shop_domain": (
        "The platform's host name for the shop, e.g. name.myshopify.com (webhooks naming "
        "another shop are refused)",
        lambda v: v.strip().lower(),
    ),
    "gross_margin": ("Gross margin as a share of order value, e.g. 0.45", _share),
    "margin_floor": ("Incentives never push the margin below this share", _share),
}
_SETTABLE.update(TRUST_SETTABLE)  # consent field, retention windows


@store.command("set")
@click.argument("store_id")
@click.option("--frequency-cap", type=click.IntRange(1, 168), help="Hours between messages")
@click.option("--hold-period", type=click.IntRange(3, 7), help="Days a pending order is held")
@click.option("--consent", type=click.Choice(["law", "always", "never"]), help="Marketing consent")
@click.option("--pause/--resume", default=None, help="Stop or restart all sending")
@click.option(
    "--coupons-imported/--no-coupons-imported",
    default=None,
    help="You import Reclaim's coupon codes into the store yourself (reclaim coupons export): "
    "codes are mailed without API access to create them",
)
@click.option(
    "--alert-email",
    "alert_emails",
    multiple=True,
    help="An operator emailed the store's alerts (repeat it; '' for none)",
)
@click.option(
    "--report-email",
    "report_emails",
    multiple=True,
    help="Who is emailed the store's report (repeat it; '' for none)",
)
@click.option(
    "--report-every",
    type=click.Choice(["week", "month", "never"]),
    help="How often the report is emailed",
)
@click.option(
    "--fx-rate",
    "fx_rates",
    multiple=True,
    metavar="CUR=RATE",
    help="Store-currency units for one unit of CUR, e.g. USD=0.92 in a EUR store (repeat it "
    "per currency: the rates given replace the earlier ones; '' for none)",
)
@click.option(
    "--report-locale", type=click.Choice(list(REPORT_LOCALES)), help="The report's language"
)
@click.option(
    "--accept-test-mode/--no-accept-test-mode",
    default=None,
    help="Run test-mode deliveries (Stripe livemode false, test orders) as cases marked test",
)
@handled
def store_set(
    store_id: str,
    frequency_cap: int | None,
    hold_period: int | None,
    consent: str | None,
    pause: bool | None,
    coupons_imported: bool | None,
    alert_emails: tuple[str, ...],
    report_emails: tuple[str, ...],
    report_every: str | None,
    fx_rates: tuple[str, ...],
    report_locale: str | None,
    accept_test_mode: bool | None,
    **values: str | None,
) -> None:
    """Change a store's message settings (only the options given)."""
    from datetime import timedelta

    from reclaim.services.stores import update_settings

    changes: dict[str, object] = {
        k: _SETTABLE[k][1](v) if v != "" else None for k, v in values.items() if v is not None
    }
    if "postal_address" in changes:
        changes["postal_address"] = changes["postal_address"] or ""
    if frequency_cap is not None:
        changes["frequency_cap"] = timedelta(hours=frequency_cap)
    if hold_period is not None:
        changes["hold_period"] = timedelta(days=hold_period)
    if consent is not None:
        changes["requires_consent"] = {"law": None, "always": True, "never": False}[consent]
    if alert_emails:
        changes["alert_emails"] = tuple(e.strip().lower() for e in alert_emails if e.strip())
    if coupons_imported is not None:
        changes["coupons_imported"] = coupons_imported
    if report_emails:
        changes["report_emails"] = tuple(e.strip().lower() for e in report_emails if e.strip())
    if report_every is not None:
        changes["report_every"] = None if report_every == "never" else report_every
    if fx_rates:
        changes["fx_rates"] = _rates(fx_rates)
    if report_locale is not None:
        changes["report_locale"] = report_locale
    if accept_test_mode is not None:
        changes["accept_test_mode"] = accept_test_mode
    rt = runtime()
    try:
        update_settings(
            uow=rt.uow(), store_id=store_id, changes=changes, paused=pause, actor=actor(rt)
        )
    finally:
        rt.close()
    console.print(f"store [bold]{store_id}[/bold] updated: {', '.join(changes) or 'nothing'}")


for _name, (_help, _kind) in _SETTABLE.items():
    store_set = click.option(f"--{_name.replace('_', '-')}", _name, help=_help)(store_set)


@store.command("list")
@click.option("--json", "as_json", is_flag=True)
@handled
def store_list(as_json: bool) -> None:
    """The connected stores."""
    rt = runtime()
    try:
        stores = list_stores(uow=rt.uow())
    finally:
        rt.close()
    rows = [
        {
            "id": s.id,
            "name": s.name,
            "platform": s.platform,
            "currency": s.currency,
            "timezone": s.timezone,
            "domain": s.domain,
            "activated_at": s.activated_at.isoformat(),
            "paused": s.paused,
        }
        for s in stores
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    print_table(
        console,
        ("id", "name", "platform", "currency", "timezone", "domain", "sending"),
        [
            (
                s.id,
                s.name,
                s.platform,
                s.currency,
                s.timezone,
                s.domain,
                Text("paused", style="red") if s.paused else "on",
            )
            for s in stores
        ],
        keys=("id",),
    )


@store.command("alerts")
@click.argument("store_id")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True)
@handled
def store_alerts(store_id: str, limit: int, as_json: bool) -> None:
    """The store's alerts, newest first: complaint rate, sending paused (SPEC S5)."""
    rt = runtime()
    try:
        found = alerts.list_alerts(uow=rt.uow(), store_id=store_id, limit=limit)
    finally:
        rt.close()
    if as_json:
        rows = [{"at": a.at.isoformat(), "type": a.type, "message": a.message} for a in found]
        click.echo(json.dumps(rows))
        return
    if not found:
        console.print(f"no alerts for {store_id}")
        return
    shown = [(a.at.isoformat()[:19], a.message) for a in found]
    print_table(console, ("at", "alert"), shown, keys=("at",), title=f"alerts of {store_id}")


# -- API keys: add, list, revoke, rotate (entrypoints/cli/store_keys.py) -----------------

store.add_command(store_key)
