"""Coupons reach the store before their email does (SPEC S6: "pushed to the store through its
API where a connector can, or exported; redemptions tracked"), on SQLite and PostgreSQL.

Each platform's API is a real local HTTP server recording what Reclaim sent and answering
from a script; the email goes to a real SMTP server. A case is driven to its 72 h incentive
step (the default abandoned-checkout flow: reminder, help, 10 % coupon valid 48 h)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from helpers import (
    MONDAY,
    checkout_event,
    client,
    coupon_object,
    make_store,
    post_events,
    store_object,
    stripe_headers,
)
from reclaim.adapters.channels.webhook import verify_webhook_signature
from reclaim.adapters.db.tables import coupons, steps
from reclaim.bootstrap import Runtime
from reclaim.entrypoints.cli import main
from reclaim.entrypoints.worker import run_once
from reclaim.services.audit import list_entries
from reclaim.services.stores import NewStore, update_settings
from reclaim.sim.mailbox import Mailbox
from unit.channels.channel_servers import HttpServer, Reply

T0 = MONDAY  # 10:00 in Berlin
AT_72H = T0 + timedelta(hours=72)
SHOPIFY_CREATED = {
    "data": {
        "discountCodeBasicCreate": {
            "codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/77"},
            "userErrors": [],
        }
    }
}


@pytest.fixture
def api() -> Iterator[HttpServer]:
    server = HttpServer()
    yield server
    server.close()


@pytest.fixture
def rt(mail_rt: Runtime) -> Runtime:
    return mail_rt


def at_the_incentive(
    rt: Runtime, box: Mailbox, platform: str, **settings: Any
) -> tuple[NewStore, TestClient]:
    """A store on ``platform`` with ``settings``, and a German cart left there at T0 whose
    reminder (1 h) and help (24 h) went out; the incentive is due at 72 h."""
    store = make_store(rt, platform=platform, **settings)
    c = client(rt)
    body = checkout_event(T0, timezone="Europe/Berlin", accepts_marketing=True)
    assert post_events(c, store.api_key, body).status_code == 202
    run_once(rt, T0 + timedelta(minutes=31))
    for hours in (1, 24):
        run_once(rt, T0 + timedelta(hours=hours))
    assert len(box.take()) == 2
    return store, c


def auth(store: NewStore) -> dict[str, str]:
    return {"Authorization": f"Bearer {store.api_key}"}


def the_coupon(rt: Runtime) -> Any:
    with rt.engine.connect() as conn:
        return conn.execute(select(coupons)).one()


def incentive_step(rt: Runtime) -> Any:
    with rt.engine.connect() as conn:
        return conn.execute(select(steps).where(steps.c.position == 2)).one()


def code_in(email: Any) -> str:
    text = email.parsed().get_body(("plain",)).get_content()
    [line] = [w for w in text.split() if w.count("-") == 2 and len(w.strip(".,:")) == 12]
    return line.strip(".,:")


def test_shopify_gets_the_coupon_before_its_email(
    rt: Runtime, box: Mailbox, api: HttpServer
) -> None:
    store, _ = at_the_incentive(
        rt, box, "shopify", platform_api_url=api.url, platform_api_token="shpat_x"
    )
    api.replies.append(Reply.json(200, SHOPIFY_CREATED))
    assert run_once(rt, AT_72H).steps.sent == 1
    [email] = box.take()
    [call] = api.requests
    assert call.path == "/admin/api/2024-10/graphql.json"
    assert call.headers["x-shopify-access-token"] == "shpat_x"
    sent = json.loads(call.body)
    assert "discountCodeBasicCreate" in sent["query"]
    d = sent["variables"]["d"]
    row = the_coupon(rt)
    assert d["code"] == row.code == code_in(email)
    assert (d["usageLimit"], d["appliesOncePerCustomer"]) == (1, True)
    assert d["customerGets"]["value"] == {"percentage": 0.1}
    assert d["endsAt"] == row.expires_at.isoformat().replace("+00:00", "Z")
    assert row.expires_at == AT_72H + timedelta(hours=48)
    assert (row.push_state, row.platform_ref) == ("pushed", "gid://shopify/DiscountCodeNode/77")
    assert row.pushed_at == AT_72H and row.push_error is None
    [case] = client(rt).get("/api/v1/cases", headers=auth(store)).json()["cases"]
    timeline = client(rt).get(f"/api/v1/cases/{case['id']}", headers=auth(store)).json()
    [pushed] = [e for e in timeline["timeline"] if e["type"] == "coupon_pushed"]
    assert pushed["data"]["platform_ref"] == "gid://shopify/DiscountCodeNode/77"


def test_a_platform_that_is_down_holds_the_email_back_until_the_coupon_is_there(
    rt: Runtime, box: Mailbox, api: HttpServer
) -> None:
    at_the_incentive(rt, box, "shopify", platform_api_url=api.url, platform_api_token="shpat_x")
    api.replies.append(Reply(status=503))
    stats = run_once(rt, AT_72H).steps
    assert (stats.sent, stats.deferred) == (0, 1) and box.take() == []
    step = incentive_step(rt)
    assert (step.status, step.outcome) == ("scheduled", "deferred_coupon_push")
    assert step.due_at >= AT_72H + timedelta(minutes=30)
    row = the_coupon(rt)
    assert row.push_state is None and "503" in row.push_error
    # Next time Shopify says the code exists (the first call had got through): it is looked up.
    api.replies.append(
        Reply.json(
            200,
            {
                "data": {
                    "discountCodeBasicCreate": {
                        "codeDiscountNode": None,
                        "userErrors": [{"field": ["code"], "code": "TAKEN", "message": "taken"}],
                    }
                }
            },
        )
    )
    api.replies.append(
        Reply.json(
            200, {"data": {"codeDiscountNodeByCode": {"id": "gid://shopify/DiscountCodeNode/5"}}}
        )
    )
    assert run_once(rt, step.due_at).steps.sent == 1
    [email] = box.take()
    assert (
        len(api.requests) == 3
        and "codeDiscountNodeByCode" in json.loads(api.requests[2].body)["query"]
    )
    row = the_coupon(rt)
    assert code_in(email) == row.code  # the same coupon, never a second one
    assert (row.push_state, row.platform_ref) == ("pushed", "gid://shopify/DiscountCodeNode/5")


def test_a_coupon_the_platform_refuses_is_never_mailed(
    rt: Runtime, box: Mailbox, api: HttpServer
) -> None:
    at_the_incentive(
        rt, box, "woocommerce", platform_api_url=api.url, platform_api_token="ck_1:cs_2"
    )
    api.replies.append(Reply.json(400, {"code": "rest_invalid_param", "message": "amount bad"}))
    stats = run_once(rt, AT_72H).steps
    assert (stats.sent, stats.failed) == (0, 1) and box.take() == []
    [call] = api.requests
    assert (call.method, call.path) == ("POST", "/wp-json/wc/v3/coupons")
    assert call.headers["authorization"].startswith("Basic ")
    sent = json.loads(call.body)
    assert (sent["discount_type"], sent["amount"], sent["usage_limit"]) == ("percent", "10", 1)
    step = incentive_step(rt)
    assert (step.status, step.outcome) == ("failed", "coupon_rejected")
    assert "amount bad" in the_coupon(rt).push_error


def test_woocommerce_finds_a_code_it_already_has(
    rt: Runtime, box: Mailbox, api: HttpServer
) -> None:
    at_the_incentive(
        rt, box, "woocommerce", platform_api_url=api.url, platform_api_token="ck_1:cs_2"
    )
    api.replies.append(
        Reply.json(400, {"code": "woocommerce_rest_coupon_code_already_exists", "message": "x"})
    )
    api.replies.append(Reply.json(200, [{"id": 4711, "code": "whatever"}]))
    assert run_once(rt, AT_72H).steps.sent == 1
    lookup = api.requests[1]
    assert lookup.method == "GET" and lookup.path.startswith("/wp-json/wc/v3/coupons?code=")
    assert (the_coupon(rt).push_state, the_coupon(rt).platform_ref) == ("pushed", "4711")


def test_without_a_connector_an_importing_store_gets_its_coupon_mailed_and_left_to_export(
    rt: Runtime, box: Mailbox, api: HttpServer
) -> None:
    # No API access set; the operator imports Reclaim's codes (without that, no code goes:
    # tests/integration/test_truthful_messages.py).
    store, c = at_the_incentive(rt, box, "shopify", coupons_imported=True)
    assert run_once(rt, AT_72H).steps.sent == 1
    [email] = box.take()
    row = the_coupon(rt)
    assert row.push_state == "exported" and "no platform API access" in row.push_error
    r = c.get(
        "/api/v1/coupons?push_state=exported",
        headers={"Authorization": f"Bearer {store.api_key}"},
    )
    assert r.status_code == 200, r.text
    [listed] = r.json()["coupons"]
    assert listed["code"] == code_in(email) and listed["push_state"] == "exported"
    assert listed["expires_at"] == "2026-05-09T08:00:00Z" and listed["value"] == "10"
    bad = c.get(
        "/api/v1/coupons?push_state=lost", headers={"Authorization": f"Bearer {store.api_key}"}
    )
    assert bad.status_code == 422 and "push_state" in bad.text
    # The merchant's import file: the same coupon, from the CLI.
    env = {"RECLAIM_DATABASE_URL": rt.settings.database_url}
    args = ["coupons", "export", "--store", store.id, "--push-state", "exported", "--format", "csv"]
    out = CliRunner().invoke(main, args, env=env)
    assert out.exit_code == 0, out.output
    [row_out] = list(csv.DictReader(io.StringIO(out.output)))
    assert (row_out["code"], row_out["kind"], row_out["push_state"]) == (
        row.code,
        "percent",
        "exported",
    )
    wrong = CliRunner().invoke(main, [*args[:4], "--push-state", "lost"], env=env)
    assert wrong.exit_code == 2 and "--push-state" in wrong.output
    unknown = CliRunner().invoke(main, ["coupons", "export", "--store", "st_nope"], env=env)
    assert unknown.exit_code == 2 and "no store 'st_nope'" in unknown.output
    # Pushing them later: refused while the store has no connector, then done once it has.
    push = ["coupons", "push", "--store", store.id, "--now", "2026-05-07T09:00:00Z"]
    still = CliRunner().invoke(main, push, env=env)
    assert still.exit_code == 2 and "no platform API access" in still.output
    changes = {"platform_api_url": api.url, "platform_api_token": "shpat_x"}
    update_settings(uow=rt.uow(), store_id=store.id, changes=changes)
    late = CliRunner().invoke(main, [*push[:4], "--now", "2026-05-09T08:00:01Z"], env=env)
    assert late.exit_code == 0 and "0 coupons created" in late.output  # it has expired
    assert api.requests == []
    api.replies.append(Reply.json(200, SHOPIFY_CREATED))
    done = CliRunner().invoke(main, push, env=env)
    assert done.exit_code == 0 and "1 coupons created" in done.output, done.output
    [call] = api.requests
    assert json.loads(call.body)["variables"]["d"]["code"] == row.code
    row = the_coupon(rt)
    assert (row.push_state, row.platform_ref) == ("pushed", "gid://shopify/DiscountCodeNode/77")
    [entry] = [
        e for e in list_entries(uow=rt.uow(), store_id=store.id) if e.action == "coupons.push"
    ]
    assert entry.actor.startswith("cli:") and entry.after == {"pushed": 1, "failed": 0}
    again = CliRunner().invoke(main, push, env=env)
    assert again.exit_code == 0 and "0 coupons created" in again.output  # nothing left


def test_a_custom_site_is_told_by_a_signed_webhook(
    rt: Runtime, box: Mailbox, api: HttpServer
) -> None:
    store, _ = at_the_incentive(
        rt, box, "custom", webhook_url=api.url + "/hooks", webhook_signing_secret="s3cret"
    )
    assert run_once(rt, AT_72H).steps.sent == 1
    [call] = api.requests
    assert verify_webhook_signature(
        call.headers["x-reclaim-signature"], call.body, "s3cret", now=AT_72H
    )
    sent = json.loads(call.body)
    row = the_coupon(rt)
    assert sent["type"] == "coupon.create" and sent["coupon"]["code"] == row.code
    assert call.headers["x-reclaim-delivery"] == f"coupon-{store.id}-{row.code}"
    assert row.push_state == "pushed" and row.platform_ref is None


def test_stripe_promotion_code_is_made_and_its_redemption_seen(
    rt: Runtime, box: Mailbox, api: HttpServer
) -> None:
    store, c = at_the_incentive(
        rt, box, "stripe", platform_api_url=api.url, platform_api_token="rk_test_1"
    )
    api.replies += [Reply.json(200, {"id": "co_1"}), Reply.json(200, {"id": "promo_9"})]
    assert run_once(rt, AT_72H).steps.sent == 1
    [email] = box.take()
    made, promo = api.requests
    row = the_coupon(rt)
    assert "-" not in row.code and row.code in email.parsed().get_body(("plain",)).get_content()
    assert made.path == "/v1/coupons" and promo.path == "/v1/promotion_codes"
    assert made.headers["authorization"] == "Bearer rk_test_1"
    assert made.headers["idempotency-key"] == f"reclaim-coupon-{store.id}-{row.code}"
    coupon_form = {k: v[0] for k, v in parse_qs(made.body.decode()).items()}
    assert (coupon_form["percent_off"], coupon_form["duration"]) == ("10", "once")
    assert coupon_form["redeem_by"] == str(int(row.expires_at.timestamp()))
    promo_form = {k: v[0] for k, v in parse_qs(promo.body.decode()).items()}
    assert (promo_form["coupon"], promo_form["code"], promo_form["max_redemptions"]) == (
        "co_1",
        row.code,
        "1",
    )
    assert (row.push_state, row.platform_ref) == ("pushed", "promo_9")
    # The customer completes a Checkout Session with the promotion code: Stripe names it by id.
    session = {
        "id": "cs_new_1",
        "object": "checkout.session",
        "mode": "payment",
        "status": "complete",
        "currency": "eur",
        "amount_total": 111110,
        "created": int(T0.timestamp()),
        "customer_details": {"email": "ana@example.com", "name": "Ana Muster"},
        "discounts": [{"coupon": "co_1", "promotion_code": "promo_9"}],
    }
    event = {
        "id": "evt_done_1",
        "type": "checkout.session.completed",
        "created": int(T0.timestamp()),
        "livemode": False,
        "data": {"object": session},
    }
    raw = json.dumps(event).encode()
    r = c.post(f"/webhooks/stripe/{store.id}", content=raw, headers=stripe_headers(raw, T0))
    assert r.status_code in (200, 202), r.text
    run_once(rt, AT_72H + timedelta(hours=1))
    row = the_coupon(rt)
    assert row.redeemed_at == T0 and row.redeemed_order_external_id == "cs_new_1"


def test_stripe_cannot_waive_shipping(api: HttpServer) -> None:
    from reclaim.adapters.platforms.actions import HttpPlatformClient
    from reclaim.errors import DeliveryError

    free = coupon_object(code="ABCDEFGHJK", kind="free_shipping", value=Decimal(0))
    platforms = HttpPlatformClient()
    try:
        with pytest.raises(DeliveryError) as refused:
            platforms.create_coupon(store_object("stripe", api.url, "rk_test_1"), free, now=T0)
    finally:
        platforms.close()
    assert refused.value.permanent and refused.value.code == 400 and api.requests == []


def test_shopify_cannot_take_amounts_in_another_currency(api: HttpServer) -> None:
    from reclaim.adapters.platforms.actions import HttpPlatformClient
    from reclaim.domain.steps import Coupon
    from reclaim.errors import DeliveryError

    shop = store_object("shopify", api.url, "t")

    def coupon(kind: str, value: str, currency: str, min_order: str | None) -> Coupon:
        minimum = None if min_order is None else Decimal(min_order)
        return coupon_object(kind=kind, value=Decimal(value), currency=currency, min_order=minimum)

    platforms = HttpPlatformClient()
    try:
        for refused in (coupon("fixed", "5", "USD", None), coupon("percent", "10", "USD", "50")):
            with pytest.raises(DeliveryError, match="shop's currency") as exc:
                platforms.create_coupon(shop, refused, now=T0)
            assert exc.value.permanent and exc.value.code == 400
        assert api.requests == []
        api.replies.append(Reply.json(200, SHOPIFY_CREATED))
        # A percentage without a minimum is the same in every currency.
        made = platforms.create_coupon(shop, coupon("percent", "10", "USD", None), now=T0)
    finally:
        platforms.close()
    assert made == "gid://shopify/DiscountCodeNode/77" and len(api.requests) == 1


def test_refused_credentials_alert_the_stores_operators(
    rt: Runtime, box: Mailbox, api: HttpServer
) -> None:
    store, c = at_the_incentive(
        rt,
        box,
        "shopify",
        platform_api_url=api.url,
        platform_api_token="shpat_revoked",
        alert_emails=("ops@shop.example",),
    )
    api.replies.append(Reply.json(401, {"errors": "[API] Invalid API key or access token"}))
    stats = run_once(rt, AT_72H)
    assert (stats.steps.sent, stats.steps.failed, stats.notices.emailed) == (0, 1, 1)
    assert incentive_step(rt).outcome == "coupon_rejected"
    [notice] = box.take()  # to the operators; the customer got nothing
    assert list(notice.recipients) == ["ops@shop.example"]
    assert (
        str(notice.parsed()["Subject"])
        == "[Reclaim] Boutique: the platform refuses Reclaim's access"
    )
    [alert] = c.get("/api/v1/alerts", headers=auth(store)).json()["alerts"]
    assert alert["type"] == "platform_access"
    assert alert["data"] == {"platform": "shopify", "code": 401, "what": "create a coupon"}
    assert "shopify answered 401 to create a coupon" in alert["message"]


def test_a_coupon_whose_store_lost_its_connector_before_the_retry_is_never_mailed(
    rt: Runtime, box: Mailbox, api: HttpServer
) -> None:
    store, c = at_the_incentive(
        rt, box, "shopify", platform_api_url=api.url, platform_api_token="shpat_x"
    )
    api.replies.append(Reply(status=503))
    assert run_once(rt, AT_72H).steps.deferred == 1
    # Meanwhile the operator takes Reclaim's API access away: the code would not work.
    changes = {"platform_api_url": None, "platform_api_token": None}
    update_settings(uow=rt.uow(), store_id=store.id, changes=changes)
    stats = run_once(rt, incentive_step(rt).due_at).steps
    assert (stats.sent, stats.failed) == (0, 1) and box.take() == []
    assert incentive_step(rt).outcome == "coupon_rejected"
    row = the_coupon(rt)
    assert row.push_state is None and "no platform API access" in row.push_error
    [alert] = c.get("/api/v1/alerts", headers=auth(store)).json()["alerts"]
    assert alert["type"] == "coupons_unavailable" and alert["data"] == {"platform": "shopify"}
