"""Merchants' own message templates (SPEC S4): saved compiled (CSS inlined once, at save
time), looked up per store, key, channel and locale when a message is rendered.

Before a template is stored it is rendered once for :func:`cost_sample`, a sample cart with
several items, under a budget far below what a send may take; one that costs more is refused
(a template that loops and sorts for seconds would stall the worker at every send).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from reclaim.domain.audit import Actor
from reclaim.domain.messages import (
    CouponView,
    DeliveryPromise,
    ItemView,
    MessageContext,
    StoreView,
)
from reclaim.domain.stores import Store
from reclaim.errors import NotFound
from reclaim.services.audit import record
from reclaim.services.ports import UnitOfWork

# Renders a compiled template (as stored) for a sample context under the save-time budget;
# raises InvalidInput naming the part when it costs too much (adapters' ``check_cost``) or,
# for an e-mail, when it shows no unsubscribe link or postal address (``check_duties``).
CostCheck = Callable[[Mapping[str, Any], MessageContext], None]


def store_view(store: Store) -> StoreView:
    """What templates see of ``store`` (a placeholder where no postal address is set yet)."""
    settings = store.settings
    return StoreView(
        name=store.name,
        domain=store.domain,
        postal_address=settings.postal_address or "(postal address)",
        support_email=settings.support_email,
        support_phone=settings.support_phone,
        logo_url=settings.logo_url,
    )


def sample_context(
    *, key: str, locale: str, store: StoreView, public_url: str, now: datetime
) -> MessageContext:
    """A plausible customer for previews and test sends (no real customer's data)."""
    kind, _, step = key.partition("/")
    return MessageContext(
        kind=kind,
        step=step.split(".", 1)[0],
        locale=locale,
        timezone="Europe/Berlin",
        currency="EUR",
        store=store,
        first_name="Alex",
        items=(
            ItemView(
                name="Sample item",
                quantity=2,
                unit_price=Decimal("24.50"),
                image_url=f"https://{store.domain}/favicon.ico",
            ),
        ),
        total=Decimal("49.00"),
        restore_url=f"{public_url}/t/r/preview",
        unsubscribe_url=f"{public_url}/u/preview",
        reason="insufficient_funds" if kind == "failed_payment" else None,
        order_number="1001" if kind != "abandoned_checkout" else None,
        coupon=CouponView(
            code="ABCD-EFGH-JK",
            kind="percent",
            value=Decimal(10),
            currency="EUR",
            expires_at=now + timedelta(hours=48),
        ),
        hold_expires_at=now + timedelta(days=5) if kind == "pending_order" else None,
        # A pending order's facts as they are where Reclaim holds its stock and can cancel it.
        items_held=kind == "pending_order",
        will_cancel=kind == "pending_order",
        order_cancelled=kind == "pending_order",
        items_released=kind == "pending_order",
        now=now,
    )


COST_SAMPLE_ITEMS = 5


def cost_sample(
    *, key: str, locale: str, store: StoreView, public_url: str, now: datetime
) -> MessageContext:
    """The richest sample, to measure what a template costs: :data:`COST_SAMPLE_ITEMS` items
    (one sold out), alternatives, a coupon with a minimum order, a delivery promise, an order
    number, a failure reason and a hold, whatever the kind, so that every branch runs."""
    base = sample_context(key=key, locale=locale, store=store, public_url=public_url, now=now)
    items = tuple(
        ItemView(
            name=f"Sample item {n}",
            quantity=n,
            unit_price=Decimal("24.50") + n,
            image_url=f"https://{store.domain}/favicon.ico",
            url=f"{public_url}/t/c/preview-{n}",
            sku=f"SKU-{n:03d}",
            sold_out=n == COST_SAMPLE_ITEMS,
        )
        for n in range(1, COST_SAMPLE_ITEMS + 1)
    )
    alternatives = tuple(
        ItemView(
            name=f"Alternative {n}",
            quantity=1,
            unit_price=Decimal("19.90"),
            url=f"{public_url}/t/c/alternative-{n}",
        )
        for n in range(1, 4)
    )
    return replace(
        base,
        items=items,
        alternatives=alternatives,
        total=sum((item.line_total for item in items if not item.sold_out), Decimal(0)),
        reason="insufficient_funds",
        order_number="1001",
        coupon=CouponView(
            code="ABCD-EFGH-JK",
            kind="percent",
            value=Decimal(10),
            currency="EUR",
            expires_at=now + timedelta(hours=48),
            min_order=Decimal(50),
        ),
        promise=DeliveryPromise(
            origin_country="DE", days_min=2, days_max=4, saving=Decimal("3.50"), days_faster=3
        ),
        hold_expires_at=now + timedelta(days=5),
        items_held=True,
        will_cancel=True,
        order_cancelled=True,
        items_released=True,
    )


def save_template(
    *,
    uow: UnitOfWork,
    store_id: str,
    key: str,
    channel: str,
    locale: str,
    compiled: Mapping[str, Any],
    now: datetime,
    cost_check: CostCheck,
    actor: Actor | None = None,
) -> None:
    """Store a compiled template (``compile_template(...).to_json()``, parsed), once
    ``cost_check`` has rendered it for :func:`cost_sample` in its locale without going over
    the save-time budget; it raises InvalidInput (``field`` the part) and nothing is stored."""
    with uow:
        store = uow.stores.get(store_id)
        if store is None:
            raise NotFound(f"no store {store_id[:40]!r}")
        sample = cost_sample(
            key=key,
            locale=locale,
            store=store_view(store),
            public_url=f"https://{store.domain}",
            now=now,
        )
        cost_check(compiled, sample)
        # whether the store had its own before: read only for the audit log
        was = None if actor is None else uow.templates.get(store_id, key, channel, locale)
        uow.templates.put(
            store_id=store_id,
            key=key,
            channel=channel,
            locale=locale,
            compiled=dict(compiled),
            now=now,
        )
        uow.templates.add_version(
            store_id=store_id,
            key=key,
            channel=channel,
            locale=locale,
            compiled=dict(compiled),
            saved_at=now,
            saved_by=saved_by(actor),
        )
        record(
            uow,
            actor,
            "template.set",
            f"{key}/{channel}/{locale}",
            store_id=store_id,
            before={"custom": was is not None},
            after={"custom": True},
        )
        uow.commit()


def saved_by(actor: Actor | None) -> str:
    """Who a template version names: the actor, or ``system`` (the simulator, tests)."""
    return "system" if actor is None else actor.name[:120]


def delete_template(
    *,
    uow: UnitOfWork,
    store_id: str,
    key: str,
    channel: str,
    locale: str,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> bool:
    """Go back to the default template; False when the store had none of its own. The reset
    is a version too (``compiled`` None), saved at ``now`` (else the actor's time)."""
    at = now if now is not None else None if actor is None else actor.at
    if at is None:
        raise ValueError("delete_template needs now or an actor: its version row has a time")
    with uow:
        gone = uow.templates.delete(store_id=store_id, key=key, channel=channel, locale=locale)
        if gone:
            uow.templates.add_version(
                store_id=store_id,
                key=key,
                channel=channel,
                locale=locale,
                compiled=None,
                saved_at=at,
                saved_by=saved_by(actor),
            )
            record(
                uow,
                actor,
                "template.reset",
                f"{key}/{channel}/{locale}",
                store_id=store_id,
                before={"custom": True},
                after={"custom": False},
            )
        uow.commit()
        return gone


def find_template(
    *, uow: UnitOfWork, store_id: str, key: str, channel: str, locale: str
) -> dict[str, Any] | None:
    with uow:
        return uow.templates.get(store_id, key, channel, locale)
