"""Cases made straight in the database for the console's queue, case and customer tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from reclaim.bootstrap import Runtime
from reclaim.domain.cases import Case
from reclaim.domain.events import Contact, LineItem

_n = [0]


def seed_case(rt: Runtime, store_id: str, *, age: timedelta = timedelta(hours=2), **kw: Any) -> int:
    """An open case of ``store_id`` that opened ``age`` ago; its id."""
    _n[0] += 1
    now: datetime = rt.clock()
    email = kw.pop("email", f"c{_n[0]}@example.com")
    contact = kw.pop(
        "contact",
        Contact(
            email=email,
            phone=kw.get("phone"),
            first_name="Ana",
            country=kw.get("country"),
            timezone=kw.pop("timezone", None),
        ),
    )
    base: dict[str, Any] = {
        "store_id": store_id,
        "kind": "abandoned_checkout",
        "subject_id": f"s{_n[0]}",
        "customer_key": email,
        "email": email,
        "phone": None,
        "contact": contact,
        "value": Decimal("100"),
        "currency": "EUR",
        "items": (
            LineItem(
                name="Lamp",
                quantity=1,
                unit_price=Decimal("100"),
                sku="L1",
                image_url="https://cdn.example/lamp.jpg",
            ),
        ),
        "reason": "checkout_abandoned",
        "occurred_at": now - age,
        "created_at": now - age,
        "country": None,
    }
    case = Case(**(base | kw))
    with rt.uow() as uow:
        uow.cases.add(case)
        uow.commit()
        assert case.id is not None
        return case.id
