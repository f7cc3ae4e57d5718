"""One case in the console (SPEC S11): its page, each action (state, timeline, audit log),
a case taken out of automation sending nothing until resumed, bad input, viewers (403) and
other stores' cases (404); what each message said (sent through a real SMTP server), the
order's stock hold and shipments on the timeline. Coupons: test_console_case_coupons.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from markupsafe import escape
from sqlalchemy import select

from casework_support import seed_case
from console_support import console_as
from fakes import FakeSenders
from helpers import MONDAY, checkout_event, client, make_store, post_events
from reclaim.adapters.db.tables import audit_log, messages, platform_actions
from reclaim.bootstrap import Runtime
from reclaim.domain.holds import Hold
from reclaim.domain.shipments import Shipment
from reclaim.entrypoints.worker import run_once
from reclaim.services.detection import detect_due
from reclaim.services.ingest import process_inbox
from reclaim.services.steps import run_due_steps
from reclaim.sim.mailbox import Mailbox


def _audit(rt: Runtime, action: str) -> list[Any]:
    with rt.engine.connect() as db:
        return list(db.execute(select(audit_log).where(audit_log.c.action == action)))


def _events(rt: Runtime, case_id: int) -> list[tuple[str, dict[str, object]]]:
    with rt.reader() as uow:
        return [(type, data) for _, type, data in uow.cases.events(case_id)]


def _case(rt: Runtime, case_id: int) -> Any:
    with rt.reader() as uow:
        return uow.cases.get(case_id)


def test_the_page_shows_the_customer_cart_and_actions(rt: Runtime) -> None:
    store = make_store(rt)
    case_id = seed_case(
        rt, store.id, phone="+4915112345678", country="DE", timezone="Europe/Berlin"
    )
    html = console_as(rt, "operator", [store.id]).get(f"/console/cases/{case_id}").text
    assert f"Case #{case_id}" in html
    assert 'src="https://cdn.example/lamp.jpg"' in html and "Lamp" in html
    assert 'href="tel:+4915112345678"' in html and "12:00 there (Europe/Berlin)" in html
    assert 'value="take_out"' in html and 'name="outcome"' in html
    assert "Only an unpaid order can be cancelled." in html  # disabled, with the reason


def test_each_action_changes_the_case_shows_on_the_timeline_and_is_audited(
    rt: Runtime,
) -> None:
    store = make_store(rt)
    case_id = seed_case(rt, store.id)
    c = console_as(rt, "operator", [store.id], email="ana@ops.example")
    url = f"/console/cases/{case_id}/act"
    assert c.form(url, {"action": "take_out"}).headers["location"].endswith("done=take_out")
    assert _case(rt, case_id).manual is True
    assert c.form(url, {"action": "assign_me"}).status_code == 303
    assert _case(rt, case_id).assignee_id is not None
    note = c.form(url, {"action": "contacted", "outcome": "left_message", "note": "call back 5pm"})
    assert note.status_code == 303
    assert c.form(url, {"action": "note", "note": "prefers WhatsApp"}).status_code == 303
    assert c.form(url, {"action": "resume"}).status_code == 303
    assert _case(rt, case_id).manual is False
    types = [t for t, _ in _events(rt, case_id)]
    assert types == ["automation_off", "assigned", "contacted", "note", "automation_on"]
    contacted = dict(_events(rt, case_id))["contacted"]
    assert contacted == {
        "by": "console:ana@ops.example",
        "outcome": "left_message",
        "text": "call back 5pm",
    }
    for action in ("automation_off", "assigned", "contacted", "note", "automation_on"):
        (entry,) = _audit(rt, f"case.{action}")
        assert entry.actor == "console:ana@ops.example" and entry.subject == str(case_id)
    # A note's words stay on the timeline (erased with the case); the audit log, which holds
    # no personal data in clear, keeps their length.
    (noted,) = _audit(rt, "case.note")
    assert noted.after is not None and noted.after["text_chars"] == len("prefers WhatsApp")
    assert "prefers WhatsApp" not in str(noted.after)
    html = c.get(f"/console/cases/{case_id}").text
    assert (
        "Left a message" in html
        and "prefers WhatsApp" in html
        and "Taken out of automation" in html
    )


def test_bad_input_comes_back_with_the_error_and_saves_nothing(rt: Runtime) -> None:
    store = make_store(rt)
    case_id = seed_case(rt, store.id)
    c = console_as(rt, "operator", [store.id], locale="zh-CN")
    url = f"/console/cases/{case_id}/act"
    bad = c.form(url, {"action": "contacted", "outcome": "abducted_by_aliens", "note": "x"})
    assert bad.status_code == 422 and "请从列表中选择结果" in bad.text
    assert 'aria-invalid="true"' in bad.text
    long = c.form(url, {"action": "note", "note": "字" * 2001})
    assert long.status_code == 422 and "最多 2000 个字符" in long.text
    assert "字" * 2001 in long.text  # the text typed is kept
    assert c.form(url, {"action": "note", "note": "   "}).status_code == 422
    assert _events(rt, case_id) == [] and _audit(rt, "case.note") == []
    assert _audit(rt, "case.contacted") == []


def test_viewers_get_no_buttons_and_403_and_other_stores_404(rt: Runtime) -> None:
    mine, theirs = make_store(rt, "Mine"), make_store(rt, "Theirs")
    case_id = seed_case(rt, mine.id)
    hidden = seed_case(rt, theirs.id)
    viewer = console_as(rt, "viewer", [mine.id])
    html = viewer.get(f"/console/cases/{case_id}").text
    assert "/act" not in html and "Your role can read this case" in html
    assert viewer.form(f"/console/cases/{case_id}/act", {"action": "take_out"}).status_code == 403
    assert _case(rt, case_id).manual is False
    operator = console_as(rt, "operator", [mine.id])
    assert operator.get(f"/console/cases/{hidden}").status_code == 404
    refused = operator.form(f"/console/cases/{hidden}/act", {"action": "take_out"})
    assert refused.status_code == 404 and _case(rt, hidden).manual is False
    assert operator.get("/console/cases/999999").status_code == 404


def _running_case(rt: Runtime, clock: Any) -> int:
    store = make_store(rt, platform="custom")
    events = [checkout_event(clock.now, accepts_marketing=True)]
    assert post_events(client(rt), store.api_key, events).status_code == 202
    process_inbox(uow=rt.uow(), connectors=rt.connectors, now=clock.now)
    detect_due(uow=rt.uow(), now=clock.advance(minutes=45), flows=rt.flow_defaults)
    with rt.reader() as uow:
        (case,) = uow.cases.open_for_customer(store.id, "ana@example.com")
    assert case.flow_state == "running" and case.id is not None
    return case.id


def test_a_case_out_of_automation_sends_nothing_until_resumed(rt: Runtime, clock: Any) -> None:
    case_id = _running_case(rt, clock)
    c = console_as(rt, "admin")
    assert c.form(f"/console/cases/{case_id}/act", {"action": "take_out"}).status_code == 303
    senders = FakeSenders()
    later = clock.advance(hours=4)
    run_due_steps(uow=rt.uow(), senders=senders, renderer=rt.renderer, links=rt.links(), now=later)
    assert senders.sent == []
    with rt.reader() as uow:
        (step,) = [s for s in uow.steps.for_case(case_id) if s.status == "scheduled"]
    assert step.outcome == "waiting_manual"
    assert c.form(f"/console/cases/{case_id}/act", {"action": "resume"}).status_code == 303
    run_due_steps(uow=rt.uow(), senders=senders, renderer=rt.renderer, links=rt.links(), now=later)
    assert len(senders.sent) == 1  # the flow goes on where it waited


def test_send_now_and_stop(rt: Runtime, clock: Any) -> None:
    case_id = _running_case(rt, clock)
    c = console_as(rt, "admin")
    url = f"/console/cases/{case_id}/act"
    assert c.form(url, {"action": "send_now"}).status_code == 303
    with rt.reader() as uow:
        (step,) = [s for s in uow.steps.for_case(case_id) if s.status == "scheduled"]
    assert step.due_at <= clock.now
    assert c.form(url, {"action": "stop"}).status_code == 303
    assert _case(rt, case_id).flow_state == "stopped"
    assert [t for t, _ in _events(rt, case_id)][-2:] == ["send_now", "flow_stopped"]
    assert len(_audit(rt, "case.send_now")) == 1 and len(_audit(rt, "case.stop")) == 1
    assert c.form(url, {"action": "send_now"}).status_code == 409  # no running flow now


def test_cancel_an_unpaid_order(rt: Runtime) -> None:
    store = make_store(rt, platform="custom", webhook_url="https://shop.example/hook")
    case_id = seed_case(
        rt, store.id, kind="pending_order", order_external_id="o1", reason="awaiting_payment"
    )
    c = console_as(rt, "operator", [store.id])
    assert c.form(f"/console/cases/{case_id}/act", {"action": "cancel_order"}).status_code == 303
    assert _case(rt, case_id).status == "cancelled"
    with rt.engine.connect() as db:
        (row,) = db.execute(select(platform_actions)).all()
    assert (row.action, row.order_external_id, row.status) == ("cancel_order", "o1", "pending")
    assert "order_cancel_requested" in [t for t, _ in _events(rt, case_id)]
    assert len(_audit(rt, "case.cancel_order")) == 1
    # A store Reclaim cannot reach: the button is disabled with the reason, the POST refused.
    bare = make_store(rt, "Bare", platform="custom")
    other = seed_case(rt, bare.id, kind="pending_order", order_external_id="o2")
    admin = console_as(rt, "admin")
    assert "cannot reach this store" in admin.get(f"/console/cases/{other}").text
    assert admin.form(f"/console/cases/{other}/act", {"action": "cancel_order"}).status_code == 409
    assert _case(rt, other).status == "open"


def test_the_timeline_shows_what_a_sent_message_said(mail_rt: Runtime, box: Mailbox) -> None:
    rt = mail_rt
    store = make_store(rt)
    body = checkout_event(MONDAY, timezone="Europe/Berlin", accepts_marketing=True)
    assert post_events(client(rt), store.api_key, body).status_code == 202
    run_once(rt, MONDAY + timedelta(minutes=31))
    assert run_once(rt, MONDAY + timedelta(hours=1)).steps.sent == 1
    [email] = box.take()
    said = email.parsed().get_body(("plain",)).get_content()
    with rt.engine.connect() as db:
        [row] = db.execute(select(messages)).all()
    assert row.text_body and "Hallo Ana," in row.text_body
    lines = [line.rstrip() for line in row.text_body.strip().splitlines()]
    assert lines == [line.rstrip() for line in said.strip().splitlines()]  # what went out
    html = console_as(rt, "viewer", [store.id]).get(f"/console/cases/{row.case_id}").text
    assert "<summary>What it said</summary>" in html
    assert f"<pre>{escape(row.text_body)}</pre>" in html


def test_the_timeline_shows_the_orders_hold_and_shipments(rt: Runtime) -> None:
    store = make_store(rt)
    now = rt.clock()
    case_id = seed_case(rt, store.id, kind="pending_order", order_external_id="o5")
    with rt.uow() as uow:
        uow.stock.add_hold(
            Hold(store.id, "o5", "active", now - timedelta(hours=2), now + timedelta(days=2))
        )
        for n, (status, extra) in enumerate(
            [
                ("delivered", {"delivered_at": now - timedelta(hours=1)}),
                ("exception", {"location": "Leipzig hub"}),
            ]
        ):
            uow.facts.add(
                Shipment(
                    store_id=store.id,
                    external_id=f"sh{n}",
                    order_external_id="o5",
                    status=status,
                    first_event_at=now - timedelta(days=3 - n),
                    last_event_at=now - timedelta(hours=1 + n),
                    version_tag="",
                    carrier="DHL",
                    tracking_number=f"JD0{n}",
                    tracking_url="javascript:alert(1)" if n else f"https://dhl.example/JD0{n}",
                    **extra,
                )
            )
        uow.facts.add(  # another order's parcel is not this case's
            Shipment(store.id, "sh9", "o6", "in_transit", now, now, "", tracking_number="ZZ9")
        )
        uow.commit()
    html = console_as(rt, "viewer", [store.id]).get(f"/console/cases/{case_id}").text
    assert "Stock hold and shipments" in html and "Stock held" in html
    assert html.count("<strong>Shipment</strong>") == 2 and "ZZ9" not in html
    assert '<a href="https://dhl.example/JD00"' in html and "delivered" in html
    assert "exception" in html and "Leipzig hub" in html
    assert "javascript:" not in html and "JD01" in html  # only web links are links
    assert html.index("JD00") < html.index("JD01")  # first shipped first
