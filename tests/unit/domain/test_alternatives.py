"""What a cart message offers instead of an item sold out everywhere (SPEC S7): exact picks,
the flow setting that chooses, and catalogue entries refused with the field named."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reclaim.domain.alternatives import (
    Product,
    SoldOutItem,
    SoldOutPolicy,
    check_product,
    pick_alternatives,
    sold_out_skus,
)
from reclaim.domain.flows import flow_to_data, parse_flow
from reclaim.errors import InvalidInput


def lamp(sku: str, price: str, **kw: object) -> Product:
    fields: dict[str, object] = {
        "name": f"Lamp {sku}",
        "category": "lamps",
        "price": Decimal(price),
        "currency": "EUR",
        "url": f"https://shop.example/p/{sku}",
    }
    return Product(sku=sku, **(fields | kw))  # type: ignore[arg-type]


CATALOGUE = {
    p.sku: p
    for p in [
        lamp("L-SOLD", "100.00"),
        lamp("L-95", "95.00"),
        lamp("L-105", "105.00"),  # as near as L-95: the cheaper one wins the tie
        lamp("L-120", "120.00"),
        lamp("L-60", "60.00"),
        lamp("L-EMPTY", "100.00"),  # nearest of all, but sold out itself
        lamp("L-UNTRACKED", "100.00"),  # no stock kept in Reclaim: not known to be in stock
        lamp("L-USD", "100.00", currency="USD"),  # another currency: not comparable
        lamp("L-NONAME", "100.00", name=None),  # nothing to show
        lamp("L-CART", "99.00"),  # already in the cart
        lamp("CHAIR", "100.00", category="chairs", name="Chair"),
        lamp("C-SOLD", "40.00", category="chairs", name="Old chair"),
        lamp("C-45", "45.00", category="chairs", name="Chair 45"),
        lamp("X-NOCAT", "100.00", category=None),
    ]
}
AVAILABLE = {
    "L-SOLD": 0,
    "L-95": 3,
    "L-105": 1,
    "L-120": 7,
    "L-60": 2,
    "L-EMPTY": 0,
    "L-USD": 5,
    "L-NONAME": 5,
    "L-CART": 4,
    "CHAIR": 9,
    "C-SOLD": 0,
    "C-45": 2,
    "X-NOCAT": 0,
}


def picks(*items: SoldOutItem, cart: tuple[str, ...] = (), limit: int = 3) -> list[str]:
    got = pick_alternatives(
        list(items),
        catalogue=CATALOGUE,
        available=AVAILABLE,
        cart_skus={i.sku for i in items} | set(cart),
        currency="EUR",
        limit=limit,
    )
    return [p.sku for p in got]


def test_nearest_price_in_the_same_category_in_stock_and_not_in_the_cart() -> None:
    sold = SoldOutItem("L-SOLD", Decimal("100.00"))
    assert picks(sold, cart=("L-CART",)) == ["L-95", "L-105", "L-120"]
    assert picks(sold, cart=("L-CART",), limit=5) == ["L-95", "L-105", "L-120", "L-60"]


def test_the_price_the_customer_saw_is_the_reference() -> None:
    # The cart said 62.00 (a sale price): the 60.00 lamp is the nearest now.
    assert picks(SoldOutItem("L-SOLD", Decimal("62.00")), cart=("L-CART",)) == [
        "L-60",
        "L-95",
        "L-105",
    ]
    # Without L-CART in the cart it is offered: 2.00 from 97.00, as is L-95 (cheaper, first).
    assert picks(SoldOutItem("L-SOLD", Decimal("97.00")), limit=2) == ["L-95", "L-CART"]
    assert picks(SoldOutItem("L-SOLD", Decimal("98.00")), limit=2) == ["L-CART", "L-95"]


def test_every_sold_out_item_is_answered_before_any_gets_a_second() -> None:
    lamp_sold = SoldOutItem("L-SOLD", Decimal("100.00"))
    chair_sold = SoldOutItem("C-SOLD", Decimal("40.00"))
    assert picks(lamp_sold, chair_sold, cart=("L-CART",)) == ["L-95", "C-45", "L-105"]
    assert picks(chair_sold, lamp_sold, cart=("L-CART",), limit=4) == [
        "C-45",
        "L-95",
        "CHAIR",
        "L-105",
    ]


def test_a_product_suiting_two_items_is_offered_once() -> None:
    catalogue = {
        "A": lamp("A", "10.00"),
        "B": lamp("B", "11.00"),
        "ALT1": lamp("ALT1", "10.50"),
        "ALT2": lamp("ALT2", "13.00"),
    }
    got = pick_alternatives(
        [SoldOutItem("A", Decimal("10.00")), SoldOutItem("B", Decimal("11.00"))],
        catalogue=catalogue,
        available={"A": 0, "B": 0, "ALT1": 1, "ALT2": 1},
        cart_skus={"A", "B"},
        currency="EUR",
    )
    assert [p.sku for p in got] == ["ALT1", "ALT2"]


def test_nothing_comparable_means_no_alternatives() -> None:
    assert picks(SoldOutItem("X-NOCAT", Decimal("100.00"))) == []  # no category
    assert picks(SoldOutItem("UNKNOWN", Decimal("100.00"))) == []  # not in the catalogue
    got = pick_alternatives(
        [SoldOutItem("L-SOLD", Decimal("100.00"))],
        catalogue=CATALOGUE,
        available=AVAILABLE,
        cart_skus={"L-SOLD"},
        currency="GBP",  # nothing priced in the case's currency
    )
    assert got == ()


def test_sold_out_means_tracked_and_none_free_anywhere() -> None:
    available = {"A": 0, "B": 2, "C": 0}
    assert sold_out_skus(["A", "B", "C", "D"], available) == frozenset({"A", "C"})
    assert sold_out_skus(["B", "D"], available) == frozenset()


@pytest.mark.parametrize(
    ("product", "field", "message"),
    [
        (Product(sku=""), "products[0].sku", "1–255"),
        (lamp("A", "1", name=""), "products[0].name", "1–255"),
        (lamp("A", "1", category="x" * 129), "products[0].category", "1–128"),
        (lamp("A", "-1"), "products[0].price", "≥ 0"),
        (lamp("A", "1", currency=None), "products[0].currency", "needed with a price"),
        (lamp("A", "1", currency="euro"), "products[0].currency", "three-letter"),
        (lamp("A", "1", url="javascript:alert(1)"), "products[0].url", "http(s)"),
        (lamp("A", "1", image_url="http://cdn/x.jpg"), "products[0].image_url", "https"),
    ],
)
def test_bad_catalogue_entries_name_the_field(product: Product, field: str, message: str) -> None:
    with pytest.raises(InvalidInput) as err:
        check_product(product, "products[0]")
    assert err.value.field == field and message in str(err.value)


def test_a_good_catalogue_entry_passes() -> None:
    check_product(lamp("A", "1.50", image_url="https://cdn.shop.example/a.jpg"), "products[0]")
    check_product(Product(sku="A"), "products[0]")  # a bare entry: nothing to show yet


# -- the flow setting ---------------------------------------------------------------------


def cart_flow(**kw: object) -> dict[str, object]:
    steps = [
        {"key": "reminder", "after": "1h", "template": "abandoned_checkout/reminder"},
        {"key": "incentive", "after": "72h", "template": "abandoned_checkout/incentive"},
    ]
    return {"kind": "abandoned_checkout", "name": "Carts", "steps": steps} | kw


def test_sold_out_defaults_to_alternative_and_a_step_may_differ() -> None:
    f = parse_flow(cart_flow())
    assert f.sold_out is SoldOutPolicy.ALTERNATIVE
    assert [f.sold_out_policy(s) for s in f.steps] == [SoldOutPolicy.ALTERNATIVE] * 2
    data = cart_flow(sold_out="skip")
    data["steps"][1]["sold_out"] = "alternative"  # type: ignore[index]
    f = parse_flow(data)
    assert [f.sold_out_policy(s).value for s in f.steps] == ["skip", "alternative"]
    assert parse_flow(flow_to_data(f)) == f
    assert flow_to_data(f)["sold_out"] == "skip"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (cart_flow(sold_out="hide"), "sold_out", "sold_out must be one of alternative|skip"),
        (
            cart_flow(
                steps=[{"key": "a", "template": "abandoned_checkout/reminder", "sold_out": 1}]
            ),
            "steps[0].sold_out",
            "alternative|skip",
        ),
        (
            cart_flow(kind="pending_order", sold_out="skip"),
            "sold_out",
            "abandoned_checkout flows only",
        ),
        (
            cart_flow(
                kind="failed_payment",
                steps=[{"key": "a", "template": "failed_payment/first", "sold_out": "skip"}],
            ),
            "steps[0].sold_out",
            "abandoned_checkout flows only",
        ),
    ],
)
def test_bad_sold_out_settings_name_the_field(
    data: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_flow(data)
    assert err.value.field == field and message in str(err.value)
