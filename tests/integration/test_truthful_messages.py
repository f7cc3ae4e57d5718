"""A message states only what Reclaim did or will do (issue 14), end to end: real-shaped
Shopify webhooks over HTTP, the worker, real MIME received by a real SMTP server, the
operators' alerts; on SQLite and PostgreSQL.

* The pending order's last reminder and its notice at the end of the hold say "cancelled" only
  when Reclaim can cancel the order on the platform (and the notice only once it did), and
  "the items we are holding / released" only when Reclaim held stock for it. A store Reclaim
  cannot cancel orders on is told so by an alert (``cancellation_unavailable``).
* A coupon code goes to a customer only once it exists on the store (pushed) or the operator
  imports Reclaim's codes themselves (``coupons_imported``); otherwise the incentive email
  goes without a code and the operators are alerted (``coupons_unavailable``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from helpers import client, make_store, shopify_headers
from reclaim.adapters.db.tables import coupons, platform_actions
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings
from reclaim.entrypoints.cli import main
from reclaim.entrypoints.worker import run_once
from reclaim.services.stores import NewStore
from reclaim.sim.mailbox import Mailbox, Received
from reclaim.sim.platform_api import PlatformApi

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "shopify"
T0 = datetime(2026, 5, 4, 14, 0, tzinfo=UTC)  # 11:00 in São Paulo, 16:00 in Berlin
HOLD_END = T0 + timedelta(days=5)  # the default hold period
ORDER = "5987654321098"  # the fixture's order id
TOKEN = "shpat_truthful"
OPS = "ops@shop.example"


@pytest.fixture
def rt(db_url: str, box: Mailbox) -> Iterator[Runtime]:
    settings = Settings(database_url=db_url, smtp_url=box.url, public_url="http://testserver")
    runtime = bootstrap(settings, clock=lambda: T0)
    init_database(runtime)
    yield runtime
    runtime.close()


@pytest.fixture
def shopify_api() -> Iterator[PlatformApi]:
    with PlatformApi({"shopify": TOKEN}) as api:
        yield api


def webhook(c: TestClient, store: NewStore, name: str, topic: str, **changes: Any) -> None:
    data = json.loads((FIX / name).read_text())
    data.update(changes)
    body = json.dumps(data).encode()
    r = c.post(
        f"/webhooks/shopify/{store.id}",
        content=body,
        headers=shopify_headers(body, topic, f"wh-{name}"),
    )
    assert r.status_code == 200, r.text


def numbered(text: str) -> str:
    """The order named as "#N", whether by its number (#1042) or its id; spaces made plain."""
    return " ".join(text.replace(ORDER, "#N").replace("#1042", "#N").split())


def text_of(email: Received) -> str:
    part = email.parsed().get_body(("plain",))
    assert part is not None
    return numbered(str(part.get_content()))


def subject_of(email: Received) -> str:
    return numbered(str(email.parsed()["Subject"]))


def alerts_of(c: TestClient, store: NewStore) -> list[dict[str, Any]]:
    r = c.get("/api/v1/alerts", headers={"Authorization": f"Bearer {store.api_key}"})
    assert r.status_code == 200, r.text
    return list(r.json()["alerts"])


def case_of(c: TestClient, store: NewStore) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {store.api_key}"}
    [case] = c.get("/api/v1/cases", headers=auth).json()["cases"]
    return dict(c.get(f"/api/v1/cases/{case['id']}", headers=auth).json())


def actions(rt: Runtime) -> list[tuple[str, str, str | None]]:
    with rt.engine.connect() as conn:
        rows = conn.execute(
            select(
                platform_actions.c.order_external_id,
                platform_actions.c.status,
                platform_actions.c.error,
            )
        ).all()
    return [(r.order_external_id, r.status, r.error) for r in rows]


def hold_stock(c: TestClient, store: NewStore) -> None:
    """Reclaim keeps the stock of the order's woollen hats (WM-ROT; its scarf has no SKU)."""
    auth = {"Authorization": f"Bearer {store.api_key}"}
    warehouse = {"code": "SAO", "country": "BR", "timezone": "America/Sao_Paulo"}
    r = c.post("/api/v1/warehouses", json={"warehouses": [warehouse]}, headers=auth)
    assert r.status_code == 200, r.text
    level = {"warehouse": "SAO", "sku": "WM-ROT", "on_hand": 10}
    assert c.post("/api/v1/stock", json={"levels": [level]}, headers=auth).status_code == 200


def unpaid_order_to_its_last_call(rt: Runtime, box: Mailbox, store: NewStore) -> Received:
    """The fixture's pending Shopify order (#1042, Boleto, BRL), placed at T0 and never paid:
    its reminders at 1 h and 24 h, then the last reminder at 72 h (returned)."""
    c = client(rt)
    at = T0.isoformat()
    webhook(
        c,
        store,
        "order_create_pending_br.json",
        "orders/create",
        created_at=at,
        processed_at=at,
        updated_at=at,
        customer_locale="en",  # English words to assert on (pt-BR customers read Portuguese)
    )
    run_once(rt, T0 + timedelta(minutes=31))
    for hours in (1, 24):
        assert run_once(rt, T0 + timedelta(hours=hours)).steps.sent == 1
    assert len(box.take()) == 2
    assert run_once(rt, T0 + timedelta(hours=72)).steps.sent == 1
    [last_call] = box.take()
    return last_call


def test_without_a_way_to_cancel_the_notice_does_not_claim_it_and_the_operator_is_told(
    rt: Runtime, box: Mailbox
) -> None:
    # Issue 14: a Shopify store with no API token, no stock kept in Reclaim.
    store = make_store(rt, postal_address="Boutique, Paris", alert_emails=(OPS,))
    c = client(rt)
    last_call = unpaid_order_to_its_last_call(rt, box, store)
    assert subject_of(last_call) == "Last reminder: payment for your order #N"
    assert "cancel" not in text_of(last_call).lower()
    assert "holding" not in text_of(last_call)

    stats = run_once(rt, HOLD_END)
    assert stats.steps.sent == 1 and stats.notices.emailed == 1
    [notice] = [e for e in box.take() if e.recipients != (OPS,)] or [None]
    assert notice is not None
    text = text_of(notice)
    assert subject_of(notice) == "Your order #N is still unpaid"
    assert "has been cancelled" not in text and "we have cancelled" not in text.lower()
    assert "released" not in text and "holding" not in text
    assert (
        "We have not received payment for your order #N at Boutique. The order is still unpaid "
        "and may be cancelled." in text
    )
    [alert] = alerts_of(c, store)
    assert alert["type"] == "cancellation_unavailable"
    assert alert["data"] == {"platform": "shopify"}
    assert "--platform-api-url" in alert["message"] and "write_orders" in alert["message"]
    assert case_of(c, store)["status"] == "lost"
    # The attempt is on record for the operator: skipped, with the reason.
    run_once(rt, HOLD_END + timedelta(minutes=1))
    [(order, status, error)] = actions(rt)
    assert (order, status) == (ORDER, "skipped") and "platform API access" in (error or "")
    # Once a day: a second order's end of hold on the same day raises no second alert.
    assert len(alerts_of(c, store)) == 1


@pytest.mark.parametrize("held", [False, True], ids=["no-stock", "stock-held"])
def test_with_api_access_the_order_is_cancelled_before_the_notice_says_so(
    rt: Runtime, box: Mailbox, shopify_api: PlatformApi, held: bool
) -> None:
    store = make_store(
        rt,
        postal_address="Boutique, Paris",
        alert_emails=(OPS,),
        platform_api_url=shopify_api.url,
        platform_api_token=TOKEN,
    )
    c = client(rt)
    if held:
        hold_stock(c, store)
    last_call = unpaid_order_to_its_last_call(rt, box, store)
    said = text_of(last_call)
    assert subject_of(last_call) == "Last reminder: your order #N will be cancelled soon"
    if held:
        assert (
            "we will have to cancel the order and release the items we are holding for you." in said
        )
    else:
        assert "we will have to cancel the order." in said and "holding" not in said

    stats = run_once(rt, HOLD_END)
    if not held:
        # Nothing held, so no sweep asked the platform yet: the notice waits for the call.
        assert (stats.steps.sent, stats.steps.waiting) == (0, 1) and box.take() == []
        assert shopify_api.cancelled == []
        stats = run_once(rt, HOLD_END + timedelta(minutes=1))
    assert stats.platform.done == 1 and stats.steps.sent == 1
    assert shopify_api.cancelled == [("shopify", ORDER)]
    [notice] = box.take()
    text = text_of(notice)
    assert subject_of(notice) == "Your order #N has been cancelled"
    if held:
        assert (
            "so we have cancelled it and released the items we were holding. "
            "You will not be charged." in text
        )
    else:
        assert "so we have cancelled it. You will not be charged." in text
        assert "released" not in text
    assert actions(rt) == [(ORDER, "done", None)]
    assert alerts_of(c, store) == []
    assert case_of(c, store)["status"] == "lost"


# -- coupons ---------------------------------------------------------------------------------


def cart_to_its_incentive(rt: Runtime, box: Mailbox, store: NewStore) -> Received:
    """The fixture's German Shopify checkout (subscribed to marketing), left at T0: its
    reminder (1 h) and help (24 h), then the 10 % incentive (72 h, returned)."""
    c = client(rt)
    at = T0.isoformat()
    webhook(c, store, "checkout_create_de.json", "checkouts/create", created_at=at, updated_at=at)
    run_once(rt, T0 + timedelta(minutes=31))
    for hours in (1, 24):
        assert run_once(rt, T0 + timedelta(hours=hours)).steps.sent == 1
    assert len(box.take()) == 2
    stats = run_once(rt, T0 + timedelta(hours=72))
    assert stats.steps.sent == 1
    [incentive] = [e for e in box.take() if e.recipients != (OPS,)]
    return incentive


CODE = re.compile(r"\b[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{2}\b")


def coupon_rows(rt: Runtime) -> list[Any]:
    with rt.engine.connect() as conn:
        return list(conn.execute(select(coupons)).all())


def test_without_a_connector_the_incentive_goes_without_a_code_and_the_operator_is_told(
    rt: Runtime, box: Mailbox
) -> None:
    store = make_store(rt, postal_address="Boutique, Paris", alert_emails=(OPS,))
    c = client(rt)
    incentive = cart_to_its_incentive(rt, box, store)
    text = text_of(incentive)
    assert CODE.search(text) is None and "Code" not in text
    assert subject_of(incentive) == "Ihr Warenkorb wartet noch auf Sie"
    assert coupon_rows(rt) == []  # no code was drawn, so none can be exported by mistake
    [alert] = alerts_of(c, store)
    assert alert["type"] == "coupons_unavailable"
    assert "--coupons-imported" in alert["message"] and "--platform-api-token" in alert["message"]
    timeline = case_of(c, store)["timeline"]
    [withheld] = [e for e in timeline if e["type"] == "coupon_withheld"]
    assert withheld["data"] == {"step": "incentive", "why": "no_connector"}


def test_a_store_that_imports_its_codes_gets_them_in_its_emails(
    rt: Runtime, box: Mailbox, db_url: str
) -> None:
    store = make_store(rt, postal_address="Boutique, Paris", alert_emails=(OPS,))
    env = {"RECLAIM_DATABASE_URL": db_url}
    out = CliRunner().invoke(main, ["store", "set", store.id, "--coupons-imported"], env=env)
    assert out.exit_code == 0, out.output
    c = client(rt)
    incentive = cart_to_its_incentive(rt, box, store)
    [row] = coupon_rows(rt)
    found = CODE.search(text_of(incentive))
    assert found is not None and found.group(0) == row.code
    assert row.push_state == "exported"  # listed by `reclaim coupons export` for the import
    assert alerts_of(c, store) == []
    # And back: without the setting, codes stop going out.
    off = CliRunner().invoke(main, ["store", "set", store.id, "--no-coupons-imported"], env=env)
    assert off.exit_code == 0, off.output
    with rt.uow() as uow:
        found_store = uow.stores.get(store.id)
        assert found_store is not None and found_store.settings.coupons_imported is False
