"""Recovery flows end to end: events in over HTTP, the worker at 1 h / 24 h / 72 h, real MIME
received by a real SMTP server (aiosmtpd), links followed back through the API. On SQLite and
on the real PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from helpers import checkout_event, client, make_store, order_event, post_events
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings
from reclaim.entrypoints.worker import run_once
from reclaim.sim.mailbox import Mailbox

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)  # a Monday, 10:00 in Berlin
PUBLIC = "http://testserver"
ITEMS = [
    {
        "sku": "LAMP-1",
        "name": "Messinglampe",
        "quantity": 1,
        "price": "1234.56",
        "image_url": "https://cdn.shop.example/lamp.jpg",
        "url": "https://shop.example/products/lamp",
    }
]


@pytest.fixture
def box() -> Iterator[Mailbox]:
    with Mailbox() as b:
        yield b


@pytest.fixture
def mrt(db_url: str, box: Mailbox) -> Iterator[Runtime]:
    runtime = bootstrap(
        Settings(database_url=db_url, smtp_url=box.url, public_url=PUBLIC),
        clock=lambda: T0,
    )
    init_database(runtime)
    yield runtime
    runtime.close()


def body_text(msg: EmailMessage, subtype: str) -> str:
    part = msg.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    return part.get_content()


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://[^\s\"'<>]+", text)


def api(c: TestClient, key: str, path: str) -> dict:  # type: ignore[type-arg]
    r = c.get(path, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def german_checkout(
    c: TestClient, key: str, at: datetime, checkout_id: str = "c-de-1", **kw: object
) -> None:
    event = checkout_event(
        at,
        checkout_id=checkout_id,
        email="ana@example.de",
        first_name="Anna",
        locale="de-DE",
        country="DE",
        timezone="Europe/Berlin",
        total="1234.56",
        items=ITEMS,
        accepts_marketing=True,
        recovery_url="https://shop.example/checkouts/c-de-1/recover?key=abc",
        **kw,
    )
    r = post_events(c, key, event)
    assert r.status_code == 202, r.text


def test_abandoned_checkout_flow_sends_three_localised_emails(
    mrt: Runtime, box: Mailbox, tmp_path: Path
) -> None:
    store = make_store(
        mrt,
        postal_address="Boutique GmbH, Hauptstraße 1, 10115 Berlin",
        sender_email="hallo@shop.example",
        support_email="hilfe@shop.example",
        coupons_imported=True,  # no connector: the store imports Reclaim's codes itself
    )
    c = client(mrt)
    german_checkout(c, store.api_key, T0)

    run_once(mrt, T0 + timedelta(minutes=31))  # the case opens; nothing is sent yet
    assert box.received == []
    [case] = api(c, store.api_key, "/api/v1/cases")["cases"]
    assert case["flow_state"] == "running"
    assert case["next_step_at"] == "2026-05-04T09:00:00Z"

    stats = run_once(mrt, T0 + timedelta(hours=1))
    assert stats.steps.sent == 1
    [first] = box.take()
    msg = first.parsed()
    assert first.recipients == ("ana@example.de",)
    assert msg["To"] == "ana@example.de"
    assert msg["From"] == "Boutique <hallo@shop.example>"
    assert msg["Message-ID"].endswith("@shop.example>")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsub_header = msg["List-Unsubscribe"]
    # RFC 8058 one-click only: no mailto to a support inbox that nothing reads.
    assert unsub_header.startswith(f"<{PUBLIC}/u/") and "mailto:" not in unsub_header
    text, html = body_text(msg, "plain"), body_text(msg, "html")
    for part in (text, html):
        assert "1.234,56\u00a0€" in part  # de-DE money, Babel's non-breaking space
        assert "Messinglampe" in part
        assert "Boutique GmbH, Hauptstraße 1, 10115 Berlin" in part
    assert "Anna" in text
    assert "<" not in text  # the plain part is plain
    assert 'style="' in html  # CSS inlined
    assert "https://cdn.shop.example/lamp.jpg" in html

    # The restore link brings the customer back to the store's recovery URL, with UTM tags.
    restore = next(u for u in links_in(text) if "/t/r/" in u)
    r = c.get(restore.removeprefix(PUBLIC), follow_redirects=False)
    assert r.status_code == 302
    target = urlsplit(r.headers["location"])
    assert (target.netloc, target.path) == ("shop.example", "/checkouts/c-de-1/recover")
    query = parse_qs(target.query)
    assert query["key"] == ["abc"]
    assert query["utm_source"] == ["reclaim"] and query["utm_campaign"] == ["abandoned_checkout"]

    # The second and third steps, in order, each once.
    run_once(mrt, T0 + timedelta(hours=23))
    assert box.received == []
    run_once(mrt, T0 + timedelta(hours=24))
    [second] = box.take()
    assert second.parsed()["Message-ID"] != msg["Message-ID"]
    run_once(mrt, T0 + timedelta(hours=72))
    [third] = box.take()
    third_text = body_text(third.parsed(), "plain")
    detail = api(c, store.api_key, f"/api/v1/cases/{case['id']}")
    [coupon] = [m["coupon"] for m in detail["messages"] if m["coupon"]]
    assert coupon in third_text
    assert [m["step"] for m in detail["messages"]] == ["reminder", "help", "incentive"]
    assert [m["status"] for m in detail["messages"]] == ["sent"] * 3
    assert detail["messages"][0]["clicked_at"] == "2026-05-04T08:00:00Z"  # the restore click
    assert detail["flow_state"] == "finished" and detail["next_step_at"] is None

    # Nothing more, ever.
    run_once(mrt, T0 + timedelta(days=10))
    assert box.received == []


def test_an_order_paid_between_steps_stops_the_flow_for_good(mrt: Runtime, box: Mailbox) -> None:
    store = make_store(mrt, postal_address="Boutique, 1 rue de Rivoli, Paris")
    c = client(mrt)
    german_checkout(c, store.api_key, T0)
    run_once(mrt, T0 + timedelta(minutes=31))
    run_once(mrt, T0 + timedelta(hours=1))
    [first] = box.take()

    # The customer opens the email (the pixel), then pays 5 hours later.
    html = body_text(first.parsed(), "html")
    pixel = next(u for u in links_in(html) if "/t/o/" in u)
    assert c.get(pixel.removeprefix(PUBLIC)).headers["content-type"] == "image/gif"
    paid = order_event(
        "order.paid",
        T0 + timedelta(hours=6),
        order_id="o-77",
        email="ana@example.de",
        checkout_id="c-de-1",
        total="1234.56",
        items=ITEMS,
    )
    assert post_events(c, store.api_key, paid).status_code == 202
    run_once(mrt, T0 + timedelta(hours=6, minutes=1))
    for hours in (24, 48, 72, 96, 200):
        run_once(mrt, T0 + timedelta(hours=hours))
    assert box.received == []
    [case] = api(c, store.api_key, "/api/v1/cases")["cases"]
    detail = api(c, store.api_key, f"/api/v1/cases/{case['id']}")
    assert detail["status"] == "recovered"
    assert detail["attribution"] == "message"
    assert detail["attributed_message_id"] == detail["messages"][0]["id"]
    assert detail["flow_state"] == "stopped" and detail["flow_stop_reason"] == "recovered"
    assert [(s["step"], s["status"]) for s in detail["steps"]] == [
        ("reminder", "sent"),
        ("help", "cancelled"),
    ]


def test_unsubscribe_get_changes_nothing_post_stops_everything(mrt: Runtime, box: Mailbox) -> None:
    store = make_store(mrt, postal_address="Boutique, 1 rue de Rivoli, Paris")
    c = client(mrt)
    german_checkout(c, store.api_key, T0)
    run_once(mrt, T0 + timedelta(minutes=31))
    run_once(mrt, T0 + timedelta(hours=1))
    [first] = box.take()
    url = next(u for u in links_in(body_text(first.parsed(), "plain")) if "/u/" in u)
    path = url.removeprefix(PUBLIC)

    for _ in range(3):  # mail scanners fetch every link: a GET must never unsubscribe
        page = c.get(path)
        assert page.status_code == 200 and "<form method='post'" in page.text
        assert "a…@example.de" in page.text
    run_once(mrt, T0 + timedelta(hours=24))
    assert len(box.take()) == 1  # still subscribed: the second step went out

    # RFC 8058 one-click: a POST with no cookie and the standard body.
    r = c.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200 and "Sie sind abgemeldet" in r.text  # the message's language
    run_once(mrt, T0 + timedelta(hours=72))
    assert box.received == []
    [case] = api(c, store.api_key, "/api/v1/cases")["cases"]
    assert case["flow_state"] == "stopped" and case["flow_stop_reason"] == "unsubscribed"

    # A new checkout by the same person later: the address stays suppressed.
    german_checkout(c, store.api_key, T0 + timedelta(days=5), checkout_id="c-de-2")
    run_once(mrt, T0 + timedelta(days=5, minutes=31))
    run_once(mrt, T0 + timedelta(days=5, hours=1))
    assert box.received == []
    assert c.get(path).text.count("erhält keine Nachrichten mehr") == 1


def test_a_forged_or_cross_purpose_link_never_redirects(mrt: Runtime, box: Mailbox) -> None:
    store = make_store(mrt, postal_address="Boutique, 1 rue de Rivoli, Paris")
    c = client(mrt)
    german_checkout(c, store.api_key, T0)
    run_once(mrt, T0 + timedelta(minutes=31))
    run_once(mrt, T0 + timedelta(hours=1))
    [first] = box.take()
    urls = links_in(body_text(first.parsed(), "plain"))
    unsub = next(u for u in urls if "/u/" in u).removeprefix(PUBLIC)
    token = unsub.split("/u/", 1)[1]
    for path in (f"/t/r/{token}", f"/t/c/{token}", "/t/r/x.y", "/t/c/" + token[:-2] + "AA"):
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 404 and "location" not in r.headers
    assert c.post(f"/u/{token[:-1]}B").status_code == 404


def test_worker_cli_once_at_a_given_time(mrt: Runtime, box: Mailbox, db_url: str) -> None:
    import json
    import os
    import subprocess
    import sys

    store = make_store(mrt, postal_address="Boutique, 1 rue de Rivoli, Paris")
    german_checkout(client(mrt), store.api_key, T0)
    env = {
        **os.environ,
        "RECLAIM_DATABASE_URL": db_url,
        "RECLAIM_SMTP_URL": box.url,
        "RECLAIM_PUBLIC_URL": PUBLIC,
    }

    def worker(at: datetime) -> dict:  # type: ignore[type-arg]
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "reclaim",
                "worker",
                "--once",
                "--now",
                at.isoformat(),
                "--json",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return json.loads(out.stdout)  # type: ignore[no-any-return]

    assert worker(T0 + timedelta(minutes=31))["cases_opened"] == 1
    assert worker(T0 + timedelta(minutes=59))["messages_sent"] == 0
    assert worker(T0 + timedelta(hours=1))["messages_sent"] == 1
    assert len(box.received) == 1
