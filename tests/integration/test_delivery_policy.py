"""The flow engine's policy at send time, on SQLite and PostgreSQL: channels and fallback,
consent, quiet hours, the frequency cap, complaints, manual stop, the pending order's hold
end, failure reasons, coupons redeemed, merchant templates, links off the store's domain."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from helpers import checkout_event, client, event, make_store, order_event, post_events
from reclaim.adapters.channels.webhook import verify_webhook_signature
from reclaim.adapters.db.tables import alerts, coupons, stores
from reclaim.adapters.templates import compile_template
from reclaim.adapters.templates.renderer import check_cost
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings
from reclaim.domain.messages import Channel
from reclaim.entrypoints.cli import main
from reclaim.entrypoints.worker import run_once
from reclaim.services.templates import save_template
from reclaim.sim.mailbox import Mailbox
from unit.channels.channel_servers import HttpServer, Reply

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)  # Monday: 10:00 Berlin, 17:00 Tokyo, 04:00 New York
PUBLIC = "http://testserver"


@pytest.fixture
def box() -> Iterator[Mailbox]:
    with Mailbox() as b:
        yield b


@pytest.fixture
def sms_api() -> Iterator[HttpServer]:
    server = HttpServer()
    yield server
    server.close()


@pytest.fixture
def mrt(db_url: str, box: Mailbox, sms_api: HttpServer) -> Iterator[Runtime]:
    settings = Settings(
        database_url=db_url,
        smtp_url=box.url,
        public_url=PUBLIC,
        sms_url=sms_api.url,
        sms_account="AC123",
        sms_token="tok",
        sms_from="+15550001111",
    )
    rt = bootstrap(settings, clock=lambda: T0)
    init_database(rt)
    yield rt
    rt.close()


def api(c: TestClient, key: str, path: str) -> Any:
    r = c.get(path, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    return r.json()


def only_case(c: TestClient, key: str) -> Any:
    [case] = api(c, key, "/api/v1/cases")["cases"]
    return api(c, key, f"/api/v1/cases/{case['id']}")


def checkout(c: TestClient, key: str, **kw: Any) -> None:
    data: dict[str, Any] = {"timezone": "Europe/Berlin", "accepts_marketing": True} | kw
    at = data.pop("at", T0)
    assert post_events(c, key, checkout_event(at, **data)).status_code == 202


def test_phone_only_customer_gets_the_sms_fallback(
    mrt: Runtime, sms_api: HttpServer, box: Mailbox
) -> None:
    store = make_store(mrt, postal_address="Shop Inc, 1 Main St, Springfield")
    c = client(mrt)
    checkout(
        c,
        store.api_key,
        email=None,
        phone="+1 415 555 2671",
        country="US",
        locale="en-US",
        timezone="America/Los_Angeles",
        accepts_sms_marketing=True,
    )
    sms_api.replies.append(Reply.json(201, {"sid": "SM1", "status": "queued", "num_segments": "1"}))
    run_once(mrt, T0 + timedelta(minutes=31))
    stats = run_once(mrt, T0 + timedelta(hours=16))  # 09:00 in Los Angeles: not quiet
    assert stats.steps.sent == 1 and box.received == []
    [req] = sms_api.requests
    form = parse_qs(req.body.decode())
    assert req.path == "/2010-04-01/Accounts/AC123/Messages.json"
    assert form["To"] == ["+14155552671"] and form["From"] == ["+15550001111"]
    assert f"{PUBLIC}/t/r/" in form["Body"][0]
    detail = only_case(c, store.api_key)
    assert [(m["channel"], m["status"]) for m in detail["messages"]] == [("sms", "sent")]


def test_sms_is_quiet_at_night_in_the_customers_zone(mrt: Runtime, sms_api: HttpServer) -> None:
    store = make_store(mrt, postal_address="Shop Inc, 1 Main St, Springfield")
    c = client(mrt)
    checkout(
        c,
        store.api_key,
        email=None,
        phone="+14155552671",
        country="US",
        locale="en-US",
        timezone="America/Los_Angeles",
        accepts_sms_marketing=True,
    )
    run_once(mrt, T0 + timedelta(minutes=31))
    stats = run_once(mrt, T0 + timedelta(hours=1))  # 02:00 in Los Angeles
    assert (stats.steps.sent, stats.steps.waiting) == (0, 1)
    assert sms_api.requests == []
    detail = only_case(c, store.api_key)
    assert detail["next_step_at"] == "2026-05-04T15:00:00Z"  # 08:00 PDT, when SMS may go
    sms_api.replies.append(Reply.json(201, {"sid": "SM2", "status": "queued"}))
    assert run_once(mrt, T0 + timedelta(hours=7)).steps.sent == 1


def test_email_waits_for_quiet_hours_in_tokyo(mrt: Runtime, box: Mailbox) -> None:
    store = make_store(mrt, postal_address="Shop KK, Tokyo")
    c = client(mrt)
    at = T0 + timedelta(hours=4)  # 21:00 in Tokyo; the reminder falls at 22:00: quiet
    checkout(c, store.api_key, at=at, locale="ja-JP", country="JP", timezone="Asia/Tokyo")
    run_once(mrt, at + timedelta(minutes=31))
    stats = run_once(mrt, at + timedelta(hours=1))
    assert stats.steps.outcomes == {"waiting_quiet_hours": 1}
    assert box.received == []
    assert only_case(c, store.api_key)["next_step_at"] == "2026-05-04T22:00:00Z"  # 07:00 JST
    run_once(mrt, datetime(2026, 5, 4, 22, 0, tzinfo=UTC))
    [msg] = box.take()
    text = msg.parsed().get_body(preferencelist=("plain",)).get_content()
    assert "€1,234.56" in text or "€1,234.56" in text.replace("\u00a0", "")  # ja-JP, in EUR


def test_frequency_cap_spans_a_customers_cases(mrt: Runtime, box: Mailbox) -> None:
    store = make_store(mrt, postal_address="Boutique, Paris")
    c = client(mrt)
    checkout(c, store.api_key, checkout_id="c1")
    run_once(mrt, T0 + timedelta(minutes=31))
    run_once(mrt, T0 + timedelta(hours=1))
    assert len(box.take()) == 1
    # Two hours later the same customer's payment fails on an order: a transactional notice,
    # but one message per 16 h across channels and cases still holds.
    failed = event(
        "payment.failed",
        T0 + timedelta(hours=2),
        payment_id="pay-1",
        order_id="o-9",
        email="ana@example.com",
        currency="EUR",
        amount="80.00",
        decline_code="insufficient_funds",
        country="DE",
        timezone="Europe/Berlin",
    )
    assert post_events(c, store.api_key, failed).status_code == 202
    stats = run_once(mrt, T0 + timedelta(hours=2, minutes=10))  # opens, and its first step is due
    assert stats.detected.opened == 1
    assert stats.steps.outcomes == {"waiting_frequency_cap": 1}
    assert box.received == []
    # 16 h after the first message it is 03:00 in Berlin: the cap's release falls in the
    # quiet hours, so the notice is due at 07:00 (05:00 UTC) instead.
    cases = api(c, store.api_key, "/api/v1/cases?kind=failed_payment")["cases"]
    assert [x["next_step_at"] for x in cases] == ["2026-05-05T05:00:00Z"]
    stats = run_once(mrt, T0 + timedelta(hours=17))
    assert stats.steps.total == 0 and box.received == []
    run_once(mrt, datetime(2026, 5, 5, 5, 0, tzinfo=UTC))
    [notice] = box.take()
    text = notice.parsed().get_body(preferencelist=("plain",)).get_content()
    assert "Ihre Zahlung wurde abgelehnt" in text and "o-9" in text  # German, its order


def test_no_consent_no_marketing_but_transactional_notices_go(mrt: Runtime, box: Mailbox) -> None:
    store = make_store(mrt, postal_address="Boutique, Paris")
    c = client(mrt)
    checkout(c, store.api_key, accepts_marketing=None)  # a German customer who never opted in
    run_once(mrt, T0 + timedelta(minutes=31))
    for hours in (1, 24, 72):
        run_once(mrt, T0 + timedelta(hours=hours))
    assert box.received == []
    detail = only_case(c, store.api_key)
    outcomes = [s["outcome"] for s in detail["steps"]]
    assert len(outcomes) == 3 and len(set(outcomes)) == 1 and outcomes[0].startswith("consent_")
    assert detail["flow_state"] == "finished"
    # The same customer's pending order: its reminders are transactional and go out.
    placed = order_event(
        "order.created",
        T0 + timedelta(days=4),
        order_id="o-5",
        status="pending",
        timezone="Europe/Berlin",
        locale="de-DE",
    )
    assert post_events(c, store.api_key, placed).status_code == 202
    run_once(mrt, T0 + timedelta(days=4, minutes=31))
    run_once(mrt, T0 + timedelta(days=4, hours=1))
    assert len(box.take()) == 1


def test_pending_order_is_cancelled_at_the_end_of_its_hold(mrt: Runtime, box: Mailbox) -> None:
    store = make_store(mrt, postal_address="Boutique, Paris")
    c = client(mrt)
    placed = order_event(
        "order.created",
        T0,
        order_id="o-1",
        status="pending",
        timezone="Europe/Berlin",
        locale="fr-FR",
    )
    assert post_events(c, store.api_key, placed).status_code == 202
    run_once(mrt, T0 + timedelta(minutes=31))
    sent_at = []
    for hours in (1, 24, 72, 5 * 24):
        got = run_once(mrt, T0 + timedelta(hours=hours)).steps.sent
        sent_at.append(got)
    assert sent_at == [1, 1, 1, 1]
    subjects = [m.parsed()["Subject"] for m in box.take()]
    assert len(set(subjects)) == 4
    detail = only_case(c, store.api_key)
    assert detail["status"] == "lost" and detail["close_reason"] == "hold_expired"
    assert [s["step"] for s in detail["steps"]] == [
        "reminder",
        "reminder_2",
        "last_call",
        "cancelled",
    ]


def test_suspected_fraud_gets_no_message_other_reasons_get_their_own(
    mrt: Runtime, box: Mailbox
) -> None:
    store = make_store(mrt, postal_address="Boutique, Paris")
    c = client(mrt)

    def failed(pid: str, email: str, code: str) -> None:
        e = event(
            "payment.failed",
            T0,
            payment_id=pid,
            email=email,
            currency="EUR",
            amount="50.00",
            decline_code=code,
            locale="en-GB",
            country="GB",
            timezone="Europe/London",
        )
        assert post_events(c, store.api_key, e).status_code == 202

    failed("p1", "thief@example.com", "stolen_card")
    failed("p2", "broke@example.com", "insufficient_funds")
    failed("p3", "tds@example.com", "authentication_required")
    run_once(mrt, T0 + timedelta(minutes=6))
    run_once(mrt, T0 + timedelta(minutes=10))
    got = {
        m.recipients[0]: m.parsed().get_body(preferencelist=("plain",)).get_content()
        for m in box.take()
    }
    assert set(got) == {"broke@example.com", "tds@example.com"}
    assert got["broke@example.com"] != got["tds@example.com"]  # content follows the reason


def test_complaints_raise_an_alert_then_pause_the_store(mrt: Runtime, box: Mailbox) -> None:
    store = make_store(mrt, postal_address="Boutique, Paris")
    c = client(mrt)
    for i in range(4):
        checkout(c, store.api_key, checkout_id=f"c{i}", email=f"p{i}@example.de")
    run_once(mrt, T0 + timedelta(minutes=31))
    run_once(mrt, T0 + timedelta(hours=1))
    sent = box.take()
    assert len(sent) == 4
    auth = {"Authorization": f"Bearer {store.api_key}"}

    def complain(i: int) -> Any:
        body = {
            "type": "complaint",
            "email": f"p{i}@example.de",
            "message_id": sent[i].parsed()["Message-ID"],
        }
        r = c.post("/api/v1/feedback", content=json.dumps(body), headers=auth)
        assert r.status_code == 200, r.text
        return r.json()

    first = complain(0)
    assert first == {
        "suppressed": True,
        "flows_stopped": 1,
        "complaint_state": "alert",
        "paused": False,
    }
    complain(1)
    third = complain(2)
    assert third["complaint_state"] == "pause" and third["paused"] is True
    with mrt.engine.connect() as conn:
        kinds = list(conn.execute(select(alerts.c.type).order_by(alerts.c.id)).scalars())
        paused = conn.execute(select(stores.c.paused)).scalar_one()
    assert kinds == ["complaint_rate", "sending_paused"] and paused is True
    # The operator sees them, newest first, in words (API and CLI).
    shown = c.get("/api/v1/alerts", headers=auth).json()["alerts"]
    assert [a["type"] for a in shown] == ["sending_paused", "complaint_rate"]
    assert (
        "Sending paused: 3 complaints" in shown[0]["message"] and "--resume" in shown[0]["message"]
    )
    assert shown[1]["data"] == {"sent": 4, "complaints": 1}
    env = {"RECLAIM_DATABASE_URL": mrt.settings.database_url}
    out = CliRunner().invoke(main, ["store", "alerts", store.id, "--json"], env=env)
    assert out.exit_code == 0, out.output
    assert [a["type"] for a in json.loads(out.output)] == ["sending_paused", "complaint_rate"]
    listed = CliRunner().invoke(main, ["store", "list", "--json"], env=env)
    assert [s["paused"] for s in json.loads(listed.output)] == [True]
    unknown = CliRunner().invoke(main, ["store", "alerts", "st_nope"], env=env)
    assert unknown.exit_code == 2 and "no store" in unknown.output
    stats = run_once(mrt, T0 + timedelta(hours=24))  # the one customer left waits
    assert stats.steps.outcomes == {"waiting_store_paused": 1} and box.received == []
    bad = c.post(
        "/api/v1/feedback", content=b'{"type": "love", "email": "x@y.example"}', headers=auth
    )
    assert bad.status_code == 422 and bad.json()["field"] == "type"


def test_the_stores_operators_are_emailed_its_alerts_once(mrt: Runtime, box: Mailbox) -> None:
    store = make_store(mrt, postal_address="Boutique, Paris", alert_emails=("ops@shop.example",))
    c = client(mrt)
    for i in range(3):
        checkout(c, store.api_key, checkout_id=f"c{i}", email=f"p{i}@example.de")
    run_once(mrt, T0 + timedelta(minutes=31))
    run_once(mrt, T0 + timedelta(hours=1))
    sent = box.take()
    auth = {"Authorization": f"Bearer {store.api_key}"}
    for i in range(3):
        body = {"type": "complaint", "email": f"p{i}@example.de"}
        assert c.post("/api/v1/feedback", content=json.dumps(body), headers=auth).status_code == 200
    assert len(sent) == 3
    stats = run_once(mrt, T0 + timedelta(hours=2))
    assert (stats.notices.emailed, stats.notices.failed) == (2, 0)
    notices = box.take()
    assert {n.recipients[0] for n in notices} == {"ops@shop.example"}
    subjects = sorted(str(n.parsed()["Subject"]) for n in notices)
    assert subjects == [
        "[Reclaim] Boutique: complaint rate alert",
        "[Reclaim] Boutique: sending paused",
    ]
    paused = next(n.parsed() for n in notices if "paused" in str(n.parsed()["Subject"]))
    assert paused["List-Unsubscribe"] is None  # to the store's own people, not a customer
    text = paused.get_body(("plain",)).get_content()
    assert "3 complaints for 3 emails" in text and f"reclaim store alerts {store.id}" in text
    assert run_once(mrt, T0 + timedelta(hours=3)).notices.emailed == 0 and box.take() == []
    # Who is told is a store setting.
    env = {"RECLAIM_DATABASE_URL": mrt.settings.database_url}
    set_two = [
        "store",
        "set",
        store.id,
        "--alert-email",
        "A@Shop.example",
        "--alert-email",
        "b@shop.example",
    ]
    assert CliRunner().invoke(main, set_two, env=env).exit_code == 0
    with mrt.uow() as uow:
        found = uow.stores.get(store.id)
        assert found is not None and found.settings.alert_emails == (
            "a@shop.example",
            "b@shop.example",
        )
    bad = CliRunner().invoke(main, ["store", "set", store.id, "--alert-email", "nobody"], env=env)
    assert bad.exit_code == 2 and "--alert-email" in bad.output


def test_manual_stop(mrt: Runtime, box: Mailbox) -> None:
    store = make_store(mrt, postal_address="Boutique, Paris")
    c = client(mrt)
    checkout(c, store.api_key)
    run_once(mrt, T0 + timedelta(minutes=31))
    case = only_case(c, store.api_key)
    auth = {"Authorization": f"Bearer {store.api_key}"}
    r = c.post(f"/api/v1/cases/{case['id']}/stop", headers=auth)
    assert r.status_code == 200 and r.json() == {"status": "stopped", "steps_cancelled": 1}
    assert c.post(f"/api/v1/cases/{case['id']}/stop", headers=auth).status_code == 409
    assert c.post("/api/v1/cases/999999/stop", headers=auth).status_code == 404
    run_once(mrt, T0 + timedelta(hours=80))
    assert box.received == []
    assert only_case(c, store.api_key)["flow_stop_reason"] == "manual_stop"


def test_coupon_is_unique_tracked_and_redeemed(mrt: Runtime, box: Mailbox) -> None:
    # No connector: the store imports Reclaim's codes itself, so they are mailed.
    store = make_store(mrt, postal_address="Boutique, Paris", coupons_imported=True)
    c = client(mrt)
    checkout(c, store.api_key)
    run_once(mrt, T0 + timedelta(minutes=31))
    for hours in (1, 24, 72):
        run_once(mrt, T0 + timedelta(hours=hours))
    detail = only_case(c, store.api_key)
    [code] = [m["coupon"] for m in detail["messages"] if m["coupon"]]
    assert len(code) == 12 and not set(code) & set("01OIL")
    typed = code.replace("-", "").lower()  # as a customer types it
    paid = order_event(
        "order.paid",
        T0 + timedelta(hours=80),
        order_id="o-2",
        checkout_id="c1",
        coupon_codes=[typed],
    )
    assert post_events(c, store.api_key, paid).status_code == 202
    run_once(mrt, T0 + timedelta(hours=80, minutes=1))
    with mrt.engine.connect() as conn:
        row = conn.execute(select(coupons)).one()
    assert (row.code, row.redeemed_order_external_id) == (code, "o-2")
    assert row.redeemed_at == T0 + timedelta(hours=80)
    types = [e["type"] for e in only_case(c, store.api_key)["timeline"]]
    assert "coupon_issued" in types and "coupon_redeemed" in types


def test_margin_floor_refuses_an_incentive_it_cannot_afford(mrt: Runtime, box: Mailbox) -> None:
    store = make_store(
        mrt,
        postal_address="Boutique, Paris",
        gross_margin=Decimal("0.30"),
        margin_floor=Decimal("0.28"),
        coupons_imported=True,  # codes may be mailed: only the margin floor stops this one
    )
    c = client(mrt)
    checkout(c, store.api_key)
    run_once(mrt, T0 + timedelta(minutes=31))
    for hours in (1, 24, 72):
        run_once(mrt, T0 + timedelta(hours=hours))
    assert len(box.take()) == 2  # reminder and help; no coupon below the floor
    steps = only_case(c, store.api_key)["steps"]
    assert steps[2]["status"] == "skipped" and steps[2]["outcome"].startswith("incentive_")


def german_reminder(rt: Runtime, store_id: str, *, html: str, text: str) -> None:
    """The store's own German cart reminder (subject "{first name}, Ihr Korb wartet")."""
    compiled = compile_template(
        key="abandoned_checkout/reminder",
        locale="de",
        channel=Channel.EMAIL,
        subject="{{ first_name }}, Ihr Korb wartet",
        html=html,
        text=text,
    )
    save_template(
        uow=rt.uow(),
        store_id=store_id,
        key=compiled.key,
        channel="email",
        locale=compiled.locale,
        compiled=json.loads(compiled.to_json()),
        now=T0,
        cost_check=check_cost,
    )


def test_merchant_template_is_used_and_checked_at_save(mrt: Runtime, box: Mailbox) -> None:
    store = make_store(mrt, postal_address="Boutique, Paris")
    german_reminder(
        mrt,
        store.id,
        html='{% extends "layout.html" %}{% block content %}<p class="x">Eigener Text</p>{% endblock %}',
        text='{% extends "layout.txt" %}{% block content %}Eigener Text{% endblock %}',
    )
    c = client(mrt)
    checkout(c, store.api_key, first_name="Anna")
    run_once(mrt, T0 + timedelta(minutes=31))
    run_once(mrt, T0 + timedelta(hours=1))
    [msg] = box.take()
    parsed = msg.parsed()
    assert parsed["Subject"] == "Anna, Ihr Korb wartet"
    assert "Eigener Text" in parsed.get_body(preferencelist=("plain",)).get_content()


def test_a_template_that_fails_when_rendered_fails_its_step_and_sends_nothing(
    mrt: Runtime, box: Mailbox
) -> None:
    """It compiles (checked at save), but fails at send time on this customer's data: the
    message and its step are failed (``template_error``), nothing goes out, and the flow
    moves on to its next step."""
    store = make_store(mrt, postal_address="Boutique, Paris")
    german_reminder(
        mrt,
        store.id,
        html='{% extends "layout.html" %}{% block content %}{{ 1 // (items|length - 1) }}'
        "{% endblock %}",
        text='{% extends "layout.txt" %}{% block content %}Text{% endblock %}',
    )
    c = client(mrt)
    checkout(c, store.api_key, first_name="Anna")  # one item: 1 // 0
    run_once(mrt, T0 + timedelta(minutes=31))
    stats = run_once(mrt, T0 + timedelta(hours=1))
    assert stats.steps.outcomes == {"template_error": 1} and stats.steps.failed == 1
    assert box.take() == []
    detail = only_case(c, store.api_key)
    assert [(s["status"], s["outcome"]) for s in detail["steps"][:2]] == [
        ("failed", "template_error"),
        ("scheduled", None),
    ]
    [message] = detail["messages"]
    assert message["status"] == "failed" and "html" in message["error"]


def test_signed_click_to_another_domain_is_refused(mrt: Runtime, box: Mailbox) -> None:
    store = make_store(mrt, postal_address="Boutique, Paris")
    c = client(mrt)
    checkout(c, store.api_key)
    run_once(mrt, T0 + timedelta(minutes=31))
    run_once(mrt, T0 + timedelta(hours=1))
    mid = only_case(c, store.api_key)["messages"][0]["id"]
    links = mrt.links()
    for target in (
        "https://evil.example/",
        "//evil.example",
        "https://shop.example.evil.example/x",
    ):
        r = c.get(links.click(mid, target).removeprefix(PUBLIC), follow_redirects=False)
        assert r.status_code == 404 and "location" not in r.headers
    r = c.get(
        links.click(mid, "https://www.shop.example/p/1").removeprefix(PUBLIC),
        follow_redirects=False,
    )
    assert r.status_code == 302 and r.headers["location"] == "https://www.shop.example/p/1"


def test_outgoing_webhook_channel_is_signed(db_url: str, tmp_path: Path) -> None:
    hook = HttpServer()
    try:
        rt = bootstrap(Settings(database_url=db_url, public_url=PUBLIC), clock=lambda: T0)
        init_database(rt)
        store = make_store(
            rt,
            postal_address="Boutique, Paris",
            webhook_url=hook.url + "/crm",
            webhook_signing_secret="s3cret-s3cret",
        )
        flow = tmp_path / "flow.yaml"
        flow.write_text(
            "kind: abandoned_checkout\nname: CRM\nholdout: 0\nsteps:\n"
            "  - {key: crm, after: 1h, channel: webhook, template: abandoned_checkout/reminder,"
            " purpose: transactional}\n"
        )
        from reclaim.adapters.flows import load_flow
        from reclaim.services.flows import set_flow

        set_flow(
            uow=rt.uow(),
            store_id=store.id,
            source=flow.read_text(),
            flow=load_flow(flow.read_text()),
            now=T0,
        )
        c = client(rt)
        checkout(c, store.api_key)
        run_once(rt, T0 + timedelta(minutes=31))
        assert run_once(rt, T0 + timedelta(hours=1)).steps.sent == 1
        [req] = hook.requests
        assert req.path == "/crm"
        assert verify_webhook_signature(
            req.headers["x-reclaim-signature"],
            req.body,
            "s3cret-s3cret",
            now=T0 + timedelta(hours=1),
        )
        payload = json.loads(req.body)
        assert payload["type"] == "reclaim.message" and payload["email"] == "ana@example.com"
        assert payload["restore_url"].startswith(f"{PUBLIC}/t/r/")
        assert payload["value"] == "1234.56" and payload["currency"] == "EUR"
        assert payload["items"] == [
            {
                "name": "Mug",
                "sku": "MUG-1",
                "quantity": 2,
                "unit_price": "617.28",
                "url": None,  # the cart line had no product URL
                "image_url": None,
                "sold_out": False,
            }
        ]
        assert payload["alternatives"] == []
        assert payload["subject"]
        rt.close()
    finally:
        hook.close()
