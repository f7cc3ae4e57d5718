"""Realistic message contexts, and a merchant's own template rendered end to end."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from reclaim.adapters.templates import CompiledTemplate, TemplateRenderer, compile_template
from reclaim.domain.messages import (
    Channel,
    CouponView,
    DeliveryPromise,
    ItemView,
    MessageContext,
    StoreView,
)

RESTORE = "https://links.boutique.example/r/7Hq2xK"
UNSUBSCRIBE = "https://links.boutique.example/u/7Hq2xK"
ADDRESS = "Maison Lumière SAS, 12 Rue du Faubourg, 75010 Paris, France"
NOW = datetime(2026, 5, 1, 22, 30, tzinfo=UTC)

STORE = StoreView(
    name="Maison Lumière",
    domain="boutique.example",
    postal_address=ADDRESS,
    support_email="aide@boutique.example",
    support_phone="+33 1 84 88 12 34",
    logo_url="https://cdn.boutique.example/logo.png",
)

ITEMS = (
    ItemView(
        name="Linen shirt",
        quantity=2,
        unit_price=Decimal("49.90"),
        image_url="https://cdn.boutique.example/shirt.jpg",
        url="https://links.boutique.example/c/shirt",
        sku="LS-01",
    ),
    ItemView(
        name="Canvas tote",
        quantity=1,
        unit_price=Decimal("1134.76"),
        image_url="https://cdn.boutique.example/tote.jpg",
    ),
)  # line totals 99.80 + 1134.76 = 1234.56


def full_context(**changes: object) -> MessageContext:
    """Everything set: name, items, coupon, delivery promise, hold (items held, the order to be
    cancelled, then cancelled and its items released), order number, send time."""
    context = MessageContext(
        kind="abandoned_checkout",
        step="reminder",
        locale="en-US",
        timezone="Europe/Paris",
        currency="EUR",
        store=STORE,
        first_name="Anna",
        items=ITEMS,
        total=Decimal("1234.56"),
        restore_url=RESTORE,
        unsubscribe_url=UNSUBSCRIBE,
        reason="insufficient_funds",
        order_number="#1042",
        coupon=CouponView(
            code="K7M4-QX9P",
            kind="percent",
            value=Decimal("10"),
            currency="EUR",
            expires_at=datetime(2026, 5, 3, 22, 30, tzinfo=UTC),
            min_order=Decimal("50"),
        ),
        promise=DeliveryPromise(
            origin_country="FR", days_min=3, days_max=5, saving=Decimal("2.00"), days_faster=2
        ),
        hold_expires_at=datetime(2026, 5, 6, 9, 0, tzinfo=UTC),
        items_held=True,
        will_cancel=True,
        order_cancelled=True,
        items_released=True,
        now=NOW,
    )
    return replace(context, **changes)  # type: ignore[arg-type]


def bare_context(**changes: object) -> MessageContext:
    """Only what is always there: no name, items, coupon, promise, hold, contacts or send time."""
    context = MessageContext(
        kind="abandoned_checkout",
        step="reminder",
        locale="en",
        timezone="UTC",
        currency="EUR",
        store=StoreView(name="Maison Lumière", domain="boutique.example", postal_address=ADDRESS),
        first_name=None,
        items=(),
        total=Decimal("0"),
        restore_url=RESTORE,
        unsubscribe_url=UNSUBSCRIBE,
    )
    return replace(context, **changes)  # type: ignore[arg-type]


def for_key(context: MessageContext, key: str) -> MessageContext:
    kind, step = key.split("/")
    return replace(context, kind=kind, step=step)


class Overrides:
    """A store's own templates, as the lead's repository would answer, recording each ask."""

    def __init__(self, *templates: CompiledTemplate) -> None:
        self.templates = {(t.key, t.channel, t.locale): t for t in templates}
        self.asked: list[tuple[str, str, str, str]] = []

    def __call__(
        self, store_id: str, key: str, channel: str, locale: str
    ) -> CompiledTemplate | None:
        self.asked.append((store_id, key, channel, locale))
        return self.templates.get((key, Channel(channel), locale))


def render_sms(
    source: str, context: MessageContext | None = None, *, time_limit: float = 3600.0
) -> str:
    """Compile ``source`` as a merchant's SMS template and render it through the renderer.

    The wall-clock limit is an hour unless a test asks for less: a test of the step, work and
    size limits must not race the clock of a busy machine.
    """
    compiled = compile_template(
        key="abandoned_checkout/reminder",
        locale="en",
        channel=Channel.SMS,
        subject="",
        html=None,
        text=source,
    )
    renderer = TemplateRenderer(overrides=Overrides(compiled), time_limit=time_limit)
    rendered = renderer.render(
        key="abandoned_checkout/reminder",
        channel=Channel.SMS,
        context=context or full_context(locale="en"),
        store_id="store-1",
    )
    return rendered.text
