"""The funnel by country and by device (issue 15), on SQLite and PostgreSQL: counted in the
database from the facts' contact country and user agent, on a hand-built month whose right
answers are worked out here; and the SQL reading of a user agent held to
``reclaim.domain.devices.device_of``, agent by agent."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import literal, select

from reclaim.adapters.db.fact_keys import device_sql
from reclaim.bootstrap import Runtime, report_html
from reclaim.domain.devices import device_of
from reclaim.domain.events import Contact
from reclaim.domain.facts import Checkout, Order, WatchState
from reclaim.domain.shipments import Shipment
from reclaim.services.reports import build_report, report_json, report_rows
from report_history import make_store

NOV = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148 Safari/604.1"
IPAD = "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) Version/16.6 Mobile/15E148 Safari/604.1"
WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36"
ANDROID_TABLET = "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 Chrome/124.0"


def _checkout(
    store_id: str, external_id: str, country: str | None, agent: str | None, *, reach: bool
) -> Checkout:
    email = f"{external_id}@example.com" if reach else None
    return Checkout(
        store_id=store_id,
        external_id=external_id,
        customer_key=email,
        email=email,
        phone=None,
        contact=Contact(email=email, country=country),
        currency="EUR",
        total=Decimal(10),
        items=(),
        created_at=NOV,
        updated_at=NOV,
        version_tag="0",
        state="open",
        user_agent=agent,
        is_test=external_id.startswith("t"),
    )


def _order(
    store_id: str, external_id: str, country: str | None, agent: str | None, *, paid: bool
) -> Order:
    return Order(
        store_id=store_id,
        external_id=external_id,
        customer_key="x@example.com",
        email="x@example.com",
        phone=None,
        contact=Contact(email="x@example.com", country=country),
        currency="EUR",
        total=Decimal(100),
        items=(),
        created_at=NOV,
        updated_at=NOV,
        version_tag="0",
        financial_status="paid" if paid else "pending",
        paid_at=NOV + timedelta(hours=1) if paid else None,
        watch=WatchState.DONE,
        user_agent=agent,
        is_test=external_id.startswith("t"),
    )


def _shipment(store_id: str, external_id: str, order: str, *, delivered: bool) -> Shipment:
    return Shipment(
        store_id=store_id,
        external_id=external_id,
        order_external_id=order,
        status="delivered" if delivered else "in_transit",
        first_event_at=NOV,
        last_event_at=NOV,
        version_tag="0",
        delivered_at=NOV + timedelta(days=2) if delivered else None,
    )


def _month(rt: Runtime) -> str:
    """November's facts of one store (and a test checkout and order, never counted):

    ===== ======= ======= ============== ===== ========================
    fact  country contact device         paid  shipments
    ===== ======= ======= ============== ===== ========================
    k1    FR      yes     mobile
    k2    FR      no      desktop
    k3    DE      yes     tablet (iPad)
    k4    –       yes     – (no agent)
    o1    FR              mobile         yes   delivered
    o2    FR              –              no
    o3    DE              desktop        yes   in transit
    o4    US              tablet         yes   one in transit, one delivered
    o5    –               – (curl)       yes
    ===== ======= ======= ============== ===== ========================
    """
    store_id = make_store(rt, "Funnel")
    uow = rt.uow()
    with uow:
        for external_id, country, agent, reach in (
            ("k1", "FR", IPHONE, True),
            ("k2", "FR", WINDOWS, False),
            ("k3", "DE", IPAD, True),
            ("k4", None, None, True),
            ("t1", "FR", IPHONE, True),
        ):
            uow.facts.add(_checkout(store_id, external_id, country, agent, reach=reach))
        for external_id, country, agent, paid in (
            ("o1", "FR", IPHONE, True),
            ("o2", "FR", None, False),
            ("o3", "DE", WINDOWS, True),
            ("o4", "US", ANDROID_TABLET, True),
            ("o5", None, "curl/8.5.0", True),
            ("t2", "FR", IPHONE, True),
        ):
            uow.facts.add(_order(store_id, external_id, country, agent, paid=paid))
        for external_id, order, delivered in (
            ("s1", "o1", True),
            ("s3", "o3", False),
            ("s4a", "o4", False),
            ("s4b", "o4", True),
            ("st", "t2", True),
        ):
            uow.facts.add(_shipment(store_id, external_id, order, delivered=delivered))
        uow.commit()
    return store_id


def _counts(data: dict) -> dict[str | None, list[int]]:  # type: ignore[type-arg]
    return {row["key"]: [s["count"] for s in row["funnel"]] for row in data["funnel_by"]["rows"]}


def test_the_funnel_by_country_and_by_device(rt: Runtime) -> None:
    store_id = _month(rt)

    def report(by: str | None) -> dict:  # type: ignore[type-arg]
        return report_json(
            build_report(uow=rt.reader(), store_id=store_id, now=NOW, month="2026-11", by=by)
        )

    # Stages: cart, checkout (with contact), order, paid, shipped, delivered.
    by_country = report("country")
    assert by_country["funnel_by"]["by"] == "country"
    assert _counts(by_country) == {
        "DE": [1, 1, 1, 1, 1, 0],  # k3; o3 shipped, not delivered
        "FR": [2, 1, 2, 1, 1, 1],  # k1 and k2 (k2 left no contact); o1 paid and delivered
        "US": [0, 0, 1, 1, 1, 1],  # o4 alone: two shipments, one order
        None: [1, 1, 1, 1, 0, 0],  # k4 and o5 name no country
    }
    assert list(_counts(by_country)) == ["DE", "FR", "US", None]  # known first, by name
    fr = by_country["funnel_by"]["rows"][1]["funnel"]
    assert [s["conversion"] for s in fr] == [None, 0.5, 2.0, 0.5, 1.0, 1.0]
    # The groups add up to the whole funnel.
    whole = [s["count"] for s in by_country["funnel"]]
    assert whole == [sum(c[i] for c in _counts(by_country).values()) for i in range(6)]
    assert whole == [4, 3, 5, 4, 3, 2]

    by_device = report("device")
    assert _counts(by_device) == {
        "desktop": [1, 0, 1, 1, 1, 0],  # k2 (no contact); o3
        "mobile": [1, 1, 1, 1, 1, 1],  # k1; o1
        "tablet": [1, 1, 1, 1, 1, 1],  # k3 (iPad); o4 (Android without "Mobile")
        None: [1, 1, 2, 1, 0, 0],  # k4 (no agent); o2 (none), o5 (curl)
    }
    # Only country and device are on the facts: other dimensions have no funnel_by.
    assert report("flow")["funnel_by"] is None and report(None)["funnel_by"] is None

    made = build_report(uow=rt.reader(), store_id=store_id, now=NOW, month="2026-11", by="country")
    rows = list(report_rows(made))
    assert ("funnel_by_country", "FR", "cart.count", "2") in rows
    assert ("funnel_by_country", "", "order.count", "1") in rows
    out = io.StringIO()
    csv.writer(out).writerows(rows)  # plain CSV cells
    page = report_html(made)
    assert "Funnel by country" in page and ">US<" in page


AGENTS = [
    None,
    "",
    "   ",
    IPHONE,
    IPAD,
    WINDOWS,
    ANDROID_TABLET,
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Android 13; Tablet; rv:125.0) Gecko/125.0 Firefox/125.0",
    "Mozilla/5.0 (Linux; U; Android 4.0.3; KFTT) AppleWebKit/535.19 Silk/3.4 Mobile",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 Chrome/124.0",
    "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0; Tablet PC 2.0)",
    "Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (S60; SymbOS; Opera Mobi/23.348; U; en)",
    "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 TV Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) Edge/18.19041",
    "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15",
    "curl/8.5.0",
    "MyShopApp/2.1 (build 77)",
    # The edges of the rules: "tablet" not followed by " pc", "cros" as a whole word.
    "Tablet PC",
    "tablet pc tablet",
    "tabletablet pc",
    "tablet p",
    "tablet pd",
    "tablet",
    "TABLET PC2",
    "cros",
    "CrOS_x",
    "crossover",
    "cros/1",
    "SmartTV Linux",
    "BB10 Touch",
    "webOS phone",
]


def test_the_databases_device_is_device_of(rt: Runtime) -> None:
    postgres = rt.engine.dialect.name == "postgresql"
    with rt.engine.connect() as conn:
        found = {a: conn.execute(select(device_sql(literal(a), postgres))).scalar() for a in AGENTS}
    assert found == {a: device_of(a) for a in AGENTS}
