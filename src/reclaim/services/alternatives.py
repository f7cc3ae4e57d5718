"""The store's product catalogue, and what a cart message offers instead of an item sold
out everywhere (SPEC S7; the rules are in :mod:`reclaim.domain.alternatives`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from reclaim.domain.alternatives import (
    MAX_ALTERNATIVES,
    Product,
    SoldOutItem,
    SoldOutPolicy,
    check_product,
    pick_alternatives,
    sold_out_skus,
)
from reclaim.domain.audit import Actor
from reclaim.domain.cases import Case, CaseKind
from reclaim.domain.messages import ItemView
from reclaim.errors import NotFound
from reclaim.services.audit import record
from reclaim.services.fulfilment import put_weights
from reclaim.services.ports import UnitOfWork
from reclaim.services.tracking import Links, item_view


@dataclass(frozen=True, slots=True)
class SoldOut:
    """A cart with items sold out everywhere, and what to offer instead (may be none)."""

    skus: frozenset[str]
    alternatives: tuple[Product, ...] = ()


def import_products(
    *,
    uow: UnitOfWork,
    store_id: str,
    products: Sequence[Product] = (),
    weights: Sequence[tuple[str, Decimal]] = (),
    now: datetime,
    actor: Actor | None = None,
) -> tuple[int, int]:
    """Create or update catalogue entries and shipping weights, all or none, in one
    transaction; a price without a currency is in the store's currency. ``InvalidInput``
    names the first entry that is wrong. Returns (entries, weights) written."""
    with uow:
        store = uow.stores.get(store_id)
        if store is None:
            raise NotFound(f"no store {store_id[:40]!r}")
        for i, given in enumerate(products):
            product = given
            if given.price is not None and given.currency is None:
                product = replace(given, currency=store.currency)
            check_product(product, f"products[{i}]")
            uow.stock.put_product(store_id, product, now=now)
        put_weights(uow, store_id, weights, now=now)
        after = {"catalogue": len(products), "weights": len(weights)}
        record(uow, actor, "products.import", store_id, store_id=store_id, after=after)
        uow.commit()
    return len(products), len(weights)


def sold_out_offer(
    uow: UnitOfWork,
    store_id: str,
    case: Case,
    *,
    policy: SoldOutPolicy,
    free: Mapping[str, int] | None = None,
) -> SoldOut | None:
    """For an abandoned cart with an item sold out everywhere, in the caller's transaction:
    those SKUs and (``policy`` alternative) the products to offer instead. ``None`` when the
    cart has nothing sold out, or the case is not a cart (a pending order's hold keeps its
    units). ``free``: units available per tracked SKU, when the caller has read them (for a
    group of steps at once); a SKU absent from it is not tracked."""
    if case.kind != CaseKind.ABANDONED_CHECKOUT:
        return None
    skus = sorted({i.sku for i in case.items if i.sku})
    if not skus:
        return None
    if free is None:
        counted: dict[str, int] = {}
        for level in uow.stock.levels(store_id, skus):
            counted[level.sku] = counted.get(level.sku, 0) + level.available
        free = counted
    sold = sold_out_skus(skus, free)
    if not sold:
        return None
    if policy is SoldOutPolicy.SKIP:
        return SoldOut(sold)
    items: dict[str, SoldOutItem] = {}
    for line in case.items:
        if line.sku in sold and line.sku not in items:
            items[line.sku] = SoldOutItem(line.sku, line.unit_price)
    catalogue = uow.stock.products(store_id, sorted(sold))
    available: dict[str, int] = {}
    for item in items.values():
        own = catalogue.get(item.sku)
        if own is None or not own.category:
            continue
        # Enough of the nearest for the picks: at most MAX_ALTERNATIVES of this item's own,
        # plus as many that other items may take first.
        for product, units in uow.stock.in_stock_alike(
            store_id,
            category=own.category,
            currency=case.currency,
            near=item.unit_price,
            exclude=skus,
            limit=2 * MAX_ALTERNATIVES,
        ):
            catalogue.setdefault(product.sku, product)
            available[product.sku] = units
    picks = pick_alternatives(
        list(items.values()),
        catalogue=catalogue,
        available=available,
        cart_skus=skus,
        currency=case.currency,
    )
    return SoldOut(sold, picks)


def mark_sold_out(items: tuple[ItemView, ...], sold_out: SoldOut | None) -> tuple[ItemView, ...]:
    """The cart's items, those sold out everywhere marked so (shown, not offered)."""
    if sold_out is None:
        return items
    return tuple(
        replace(i, sold_out=True, url=None) if i.sku in sold_out.skus else i for i in items
    )


def alternative_views(
    links: Links, message_id: int, sold_out: SoldOut | None, hosts: set[str]
) -> tuple[ItemView, ...]:
    """The alternatives as message items: a tracked click link only to the store's own
    domains, an image only over https (as for the cart's own items)."""
    views: list[ItemView] = []
    for p in sold_out.alternatives if sold_out else ():
        assert p.name is not None and p.price is not None  # pick_alternatives sees to it
        views.append(
            item_view(
                links,
                message_id,
                hosts,
                name=p.name,
                quantity=1,
                unit_price=p.price,
                url=p.url,
                image_url=p.image_url,
                sku=p.sku,
            )
        )
    return tuple(views)
