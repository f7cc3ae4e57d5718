"""What a recovery message offers instead of an item sold out everywhere (SPEC S7).

A cart item is **sold out** when the store tracks its stock and no warehouse has a unit
available. A step about such a cart either is skipped or, where the flow says
``sold_out: alternative``, offers comparable products the store has in stock.

A product is **comparable** to a sold-out item when it is in the same catalogue category and
is priced in the case's currency (a price in another currency is not converted: there is no
rate to trust here). It is **offered** only when it is in stock (tracked, with units available
somewhere), not in the cart, and not itself sold out. Among those, the nearest in price to
what the customer saw for the sold-out item comes first; ties go to the cheaper one, then to
the SKU, so the choice is the same on every replay.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from reclaim.errors import InvalidInput

MAX_ALTERNATIVES = 3  # per message, over all its sold-out items
_CURRENCY = re.compile(r"[A-Z]{3}")


class SoldOutPolicy(StrEnum):
    """A flow's choice for a cart with an item sold out everywhere."""

    ALTERNATIVE = "alternative"  # offer in-stock comparable products; skip when there are none
    SKIP = "skip"  # skip the step (outcome ``out_of_stock``)


@dataclass(frozen=True, slots=True)
class Product:
    """A catalogue entry: what a message needs to show a product."""

    sku: str
    name: str | None = None
    category: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    url: str | None = None
    image_url: str | None = None


@dataclass(frozen=True, slots=True)
class SoldOutItem:
    """A cart line nobody can buy now, with the unit price the customer saw."""

    sku: str
    unit_price: Decimal


def sold_out_skus(skus: Iterable[str], available: Mapping[str, int]) -> frozenset[str]:
    """The SKUs tracked in stock (a key of ``available``: units free over all warehouses)
    with none free. A SKU the store keeps no stock of in Reclaim is not sold out."""
    return frozenset(s for s in skus if s in available and available[s] <= 0)


def pick_alternatives(
    sold_out: Sequence[SoldOutItem],
    *,
    catalogue: Mapping[str, Product],
    available: Mapping[str, int],
    cart_skus: Iterable[str],
    currency: str,
    limit: int = MAX_ALTERNATIVES,
) -> tuple[Product, ...]:
    """Up to ``limit`` products to offer instead of ``sold_out``, best first.

    Each sold-out item gets its own ranked candidates (see the module's rules). The picks go
    round by round in cart order, each item taking its best candidate not offered yet, so
    every sold-out item is answered before any gets a second alternative, and a product is
    offered once even when it suits several items. A product without a name or a price is
    never offered: the message could not show it.
    """
    in_cart = set(cart_skus)
    queues: list[list[Product]] = []
    for item in sold_out:
        own = catalogue.get(item.sku)
        if own is None or not own.category:
            continue  # nothing says what is comparable to it
        scored = [
            (abs(p.price - item.unit_price), p.price, p.sku, p)
            for p in catalogue.values()
            if p.price is not None
            and p.name
            and p.category == own.category
            and p.currency == currency
            and p.sku not in in_cart
            and available.get(p.sku, 0) > 0
        ]
        queues.append([p for *_, p in sorted(scored, key=lambda t: t[:3])])
    picks: list[Product] = []
    taken: set[str] = set()
    while len(picks) < limit and any(queues):
        for queue in queues:  # one round: each item's best product not offered yet
            while queue and queue[0].sku in taken:
                queue.pop(0)
            if queue and len(picks) < limit:
                picks.append(queue.pop(0))
                taken.add(picks[-1].sku)
    return tuple(picks)


def check_product(product: Product, path: str) -> None:
    """``InvalidInput`` naming the field of a catalogue entry that cannot be stored."""
    p = product
    if not p.sku.strip() or len(p.sku) > 255:
        raise InvalidInput(f"{path}.sku must be 1–255 characters", field=f"{path}.sku")
    for name, size in (("name", 255), ("category", 128), ("url", 2048), ("image_url", 2048)):
        value = getattr(p, name)
        if value is not None and not 1 <= len(value) <= size:
            raise InvalidInput(f"{path}.{name} must be 1–{size} characters", field=f"{path}.{name}")
    if p.price is not None and (not p.price.is_finite() or p.price < 0):
        raise InvalidInput(f"{path}.price must be an amount ≥ 0", field=f"{path}.price")
    if p.price is not None and p.currency is None:
        raise InvalidInput(f"{path}.currency is needed with a price", field=f"{path}.currency")
    if p.currency is not None and not _CURRENCY.fullmatch(p.currency):
        raise InvalidInput(
            f"{path}.currency must be a three-letter code such as EUR", field=f"{path}.currency"
        )
    if p.url is not None and not p.url.startswith(("https://", "http://")):
        raise InvalidInput(f"{path}.url must be an http(s) URL", field=f"{path}.url")
    if p.image_url is not None and not p.image_url.startswith("https://"):
        raise InvalidInput(f"{path}.image_url must be an https URL", field=f"{path}.image_url")
