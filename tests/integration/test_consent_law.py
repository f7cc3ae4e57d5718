"""Consent as the law says and the sender's duties, end to end (webhook in, worker, real SMTP
server), on SQLite and PostgreSQL (docs/consent.md).

- Shopify's ``not_subscribed`` is "no opt-in recorded": an abandoned-cart reminder goes in the
  US (CAN-SPAM, opt-out) and not in Germany (ePrivacy, opt-in); ``unsubscribed`` never gets
  one. WooCommerce consent comes from the consent plugins' order meta or the store's own
  checkout field.
- A store without a postal address sends no marketing message (its order notices still
  go), the operator reads why, and one alert is raised.
- A sent marketing email carries both List-Unsubscribe headers with the https URL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from helpers import MONDAY, STORE_ADDRESS, client, make_store, shopify_headers, woo_headers
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings
from reclaim.entrypoints.cli import main
from reclaim.entrypoints.worker import run_once
from reclaim.services.alerts import list_alerts
from reclaim.services.stores import update_settings
from reclaim.sim.mailbox import Mailbox

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PUBLIC = "https://reclaim.example"
WORKER_TIMES = (timedelta(minutes=31), timedelta(hours=2), timedelta(hours=10))


@pytest.fixture
def https_rt(db_url: str, box: Mailbox) -> Iterator[Runtime]:
    """Email through the test's SMTP server; links under an https public URL."""
    settings = Settings(database_url=db_url, smtp_url=box.url, public_url=PUBLIC)
    runtime = bootstrap(settings, clock=lambda: MONDAY)
    init_database(runtime)
    yield runtime
    runtime.close()


def shopify_checkout(token: str, country: str, state: str | None, email: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (FIXTURES / "shopify" / "checkout_create_de.json").read_bytes()
    )
    stamp = MONDAY.isoformat()
    data.update(created_at=stamp, updated_at=stamp, token=token, id=abs(hash(token)) % 10**12)
    data.update(email=email, buyer_accepts_marketing=False)
    for where in ("billing_address", "shipping_address"):
        data[where].update(country_code=country, province_code="NY" if country == "US" else None)
    customer = data["customer"]
    customer.update(email=email, id=abs(hash(email)) % 10**12)
    if state is None:
        customer.pop("email_marketing_consent", None)
    else:
        customer["email_marketing_consent"] = {"state": state, "opt_in_level": None}
    customer.pop("accepts_marketing", None)
    return data


def post_shopify_checkout(rt: Runtime, store_id: str, data: dict[str, Any]) -> None:
    body = json.dumps(data).encode()
    headers = shopify_headers(body, "checkouts/create", f"wh-{data['token']}")
    r = client(rt).post(f"/webhooks/shopify/{store_id}", content=body, headers=headers)
    assert r.status_code == 200, r.text


def woo_draft(order_id: int, country: str, email: str, *meta: tuple[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (FIXTURES / "woocommerce" / "order_checkout_draft_fr.json").read_bytes()
    )
    stamp = MONDAY.strftime("%Y-%m-%dT%H:%M:%S")
    data.update(id=order_id, number=str(order_id), date_created_gmt=stamp, date_modified_gmt=stamp)
    data["billing"].update(country=country, email=email, state="NY" if country == "US" else "")
    data["shipping"].update(country=country, state="NY" if country == "US" else "")
    data["meta_data"] = [{"id": i, "key": k, "value": v} for i, (k, v) in enumerate(meta)]
    return data


def post_woo(rt: Runtime, store_id: str, data: dict[str, Any]) -> None:
    body = json.dumps(data).encode()
    headers = woo_headers(body, "order.created")
    r = client(rt).post(f"/webhooks/woocommerce/{store_id}", content=body, headers=headers)
    assert r.status_code == 200, r.text


def run_worker(rt: Runtime) -> None:
    for after in WORKER_TIMES:
        run_once(rt, MONDAY + after)


def outcomes(rt: Runtime, store_id: str, key: str) -> dict[str, str | None]:
    """Each case's customer email -> its first step's outcome (or "sent")."""
    found: dict[str, str | None] = {}
    c = client(rt)
    auth = {"Authorization": f"Bearer {key}"}
    for case in c.get("/api/v1/cases", headers=auth).json()["cases"]:
        detail = c.get(f"/api/v1/cases/{case['id']}", headers=auth).json()
        first = detail["steps"][0]
        found[case["email"]] = "sent" if first["status"] == "sent" else first["outcome"]
    return found


def test_shopify_not_subscribed_is_no_opt_in_recorded_not_a_refusal(
    https_rt: Runtime, box: Mailbox
) -> None:
    store = make_store(https_rt)
    for token, country, state in (
        ("us-never", "US", "not_subscribed"),
        ("us-legacy", "US", None),  # only the unticked checkout box: no statement either
        ("de-never", "DE", "not_subscribed"),
        ("us-unsub", "US", "unsubscribed"),
        ("de-yes", "DE", "subscribed"),
    ):
        post_shopify_checkout(
            https_rt, store.id, shopify_checkout(token, country, state, f"{token}@example.com")
        )
    run_worker(https_rt)
    assert outcomes(https_rt, store.id, store.api_key) == {
        "us-never@example.com": "sent",  # CAN-SPAM: opt-out
        "us-legacy@example.com": "sent",
        "de-never@example.com": "consent_eu_marketing_needs_opt_in",  # ePrivacy: opt-in
        "us-unsub@example.com": "consent_marketing_opted_out",  # a refusal, anywhere
        "de-yes@example.com": "sent",
    }
    assert sorted(r for m in box.take() for r in m.recipients) == [
        "de-yes@example.com",
        "us-legacy@example.com",
        "us-never@example.com",
    ]


def test_woocommerce_consent_from_plugin_meta_and_the_stores_own_field(
    https_rt: Runtime, box: Mailbox
) -> None:
    store = make_store(https_rt, platform="woocommerce")
    update_settings(
        uow=https_rt.uow(), store_id=store.id, changes={"consent_meta_key": "newsletter_ok"}
    )
    for order_id, country, email, meta in (
        (501, "FR", "fr-none@example.com", ()),
        (502, "FR", "fr-mc4wp@example.com", (("_mc4wp_optin", "1"),)),
        (503, "FR", "fr-own@example.com", (("newsletter_ok", "yes"),)),
        (504, "US", "us-none@example.com", (("_mc4wp_optin", ""),)),  # unticked: no statement
        (505, "US", "us-out@example.com", (("newsletter_ok", "unsubscribed"),)),
    ):
        post_woo(https_rt, store.id, woo_draft(order_id, country, email, *meta))
    run_worker(https_rt)
    assert outcomes(https_rt, store.id, store.api_key) == {
        "fr-none@example.com": "consent_eu_marketing_needs_opt_in",
        "fr-mc4wp@example.com": "sent",
        "fr-own@example.com": "sent",
        "us-none@example.com": "sent",
        "us-out@example.com": "consent_marketing_opted_out",
    }


def test_a_marketing_email_carries_both_list_unsubscribe_headers(
    https_rt: Runtime, box: Mailbox
) -> None:
    store = make_store(https_rt)
    data = shopify_checkout("us-headers", "US", "not_subscribed", "headers@example.com")
    post_shopify_checkout(https_rt, store.id, data)
    run_worker(https_rt)
    [received] = box.take()
    msg = received.parsed()
    unsubscribe = msg["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{PUBLIC}/u/") and unsubscribe.endswith(">"), unsubscribe
    assert "mailto:" not in unsubscribe
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = unsubscribe[1:-1]
    html = msg.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    text = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert f'href="{url}"' in html and url in text
    assert STORE_ADDRESS in html and STORE_ADDRESS in text


def test_no_postal_address_no_marketing_but_order_notices_go_and_one_alert(
    https_rt: Runtime, box: Mailbox
) -> None:
    store = make_store(https_rt, postal_address="")
    for token in ("us-a", "us-b"):
        data = shopify_checkout(token, "US", "not_subscribed", f"{token}@example.com")
        post_shopify_checkout(https_rt, store.id, data)
    order: dict[str, Any] = json.loads(
        (FIXTURES / "shopify" / "order_create_pending_br.json").read_bytes()
    )
    stamp = MONDAY.isoformat()
    order.update(created_at=stamp, processed_at=stamp, updated_at=stamp, email="buyer@example.com")
    body = json.dumps(order).encode()
    headers = shopify_headers(body, "orders/create", f"wh-{order['id']}")
    assert client(https_rt).post(f"/webhooks/shopify/{store.id}", content=body, headers=headers)
    run_worker(https_rt)
    assert outcomes(https_rt, store.id, store.api_key) == {
        "us-a@example.com": "sender_no_postal_address",
        "us-b@example.com": "sender_no_postal_address",
        "buyer@example.com": "sent",  # a pending order's reminder is not marketing
    }
    assert [r for m in box.take() for r in m.recipients] == ["buyer@example.com"]
    found = list_alerts(uow=https_rt.uow(), store_id=store.id)
    assert [a.type for a in found] == ["sender_details_missing"]  # one, not one per message
    assert "postal address" in found[0].message and "--postal-address" in found[0].message
    auth = {"Authorization": f"Bearer {store.api_key}"}
    listed = client(https_rt).get("/api/v1/cases", headers=auth).json()["cases"]
    why = {c["email"]: c["why_not_sent"] for c in listed}["us-a@example.com"]
    assert why["code"] == "sender_duties" and why["outcome"] == "sender_no_postal_address"
    assert why["text"].startswith("Not sent: a marketing message must show the sender's postal")


def test_templates_set_refuses_a_template_without_a_visible_unsubscribe_link(
    sqlite_rt: Runtime, tmp_path: Path
) -> None:
    """Through the command (SQLite: the command's own runtime is the subject, not the
    database)."""
    store = make_store(sqlite_rt)
    html = tmp_path / "reminder.html"
    text = tmp_path / "reminder.txt"
    html.write_text(
        "<html><body><p>{{ store.postal_address }}</p>"
        '<div style="display:none"><a href="{{ unsubscribe_url }}">Stop</a></div></body></html>'
    )
    text.write_text("{{ restore_url }}\n{{ store.postal_address }}\n{{ unsubscribe_url }}")
    env = {"RECLAIM_DATABASE_URL": sqlite_rt.settings.database_url}
    args = [
        "templates", "set", "--store", store.id, "--key", "abandoned_checkout/reminder",
        "--locale", "en", "--subject", "Your cart", "--html", str(html), "--text", str(text),
    ]  # fmt: skip
    refused = CliRunner().invoke(main, args, env=env)
    assert refused.exit_code != 0
    assert "html: shows no unsubscribe link a reader can see" in refused.output, refused.output
    html.write_text(
        "<html><body><p>{{ store.postal_address }}</p>"
        '<p><a href="{{ unsubscribe_url }}">Stop</a></p></body></html>'
    )
    saved = CliRunner().invoke(main, args, env=env)
    assert saved.exit_code == 0, saved.output
