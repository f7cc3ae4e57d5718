"""The follow-up queue (SPEC S11): the order of a seeded set of open cases worked out by
hand from the documented weights, the filters, the phone details, viewers and other stores."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from casework_support import seed_case
from console_support import console_as
from helpers import make_store
from reclaim.bootstrap import Runtime
from reclaim.services import casework

ROW = re.compile(r'<a href="/console/cases/(\d+)">#')


def order_of(html: str) -> list[int]:
    return [int(x) for x in ROW.findall(html)]


def test_the_queue_ranks_by_the_documented_score(rt: Runtime) -> None:
    store = make_store(rt, gross_margin=Decimal("0.4"))  # margin 4 for every case
    # value 40 (1200 EUR) + region 8 (US) + age 12 (8 h) + kind 15 + reason 8 = 83 + 4 = 87
    big = seed_case(
        rt,
        store.id,
        kind="pending_order",
        reason="awaiting_payment",
        value=Decimal("1200"),
        country="US",
        age=timedelta(hours=8),
    )
    # value 40 (150,000 JPY = 1500 ref) + region 8 (JP) + age 18 (2 d) + kind 4 + reason 2 = 72 + 4 = 76
    yen = seed_case(
        rt, store.id, value=Decimal("150000"), currency="JPY", country="JP", age=timedelta(days=2)
    )
    # value 16 + region 4 (BR) + age 6 + kind 12 + reason 10 = 48 + 4 = 52
    card = seed_case(
        rt,
        store.id,
        kind="failed_payment",
        reason="authentication_failed",
        country="BR",
        age=timedelta(hours=3),
    )
    # value 0 (20 EUR) + region 0 + age 0 (10 min) + kind 4 + reason 2 = 6 + 4 = 10
    small = seed_case(rt, store.id, value=Decimal("20"), age=timedelta(minutes=10))
    closed = seed_case(rt, store.id, value=Decimal("5000"), status="lost")
    c = console_as(rt, "operator", [store.id])
    html = c.get("/console/queue").text
    assert order_of(html) == [big, yen, card, small]
    assert closed not in order_of(html)
    assert "<strong>87</strong>" in html and "<strong>76</strong>" in html
    assert "value 40 + margin 4 + region 8 + age 12 + kind 15 + reason 8" in html
    assert "<strong>10</strong>" in html


def test_filters_narrow_the_queue(rt: Runtime) -> None:
    store = make_store(rt)
    other = make_store(rt, "Other")
    us = seed_case(rt, store.id, country="US", value=Decimal("300"), age=timedelta(days=2))
    de = seed_case(
        rt,
        store.id,
        country="DE",
        kind="failed_payment",
        reason="insufficient_funds",
        value=Decimal("50"),
    )
    fr = seed_case(rt, other.id, country="FR", currency="USD", value=Decimal("80"))
    c = console_as(rt, "admin")
    assert set(order_of(c.get("/console/queue").text)) == {us, de, fr}
    assert order_of(c.get(f"/console/queue?store={store.id}").text) == [us, de]
    assert order_of(c.get("/console/queue?country=de").text) == [de]
    assert order_of(c.get("/console/queue?kind=failed_payment").text) == [de]
    assert order_of(c.get("/console/queue?reason=insufficient_funds").text) == [de]
    assert order_of(c.get("/console/queue?value_min=60&value_max=299").text) == [fr]
    assert order_of(c.get("/console/queue?currency=USD").text) == [fr]
    assert order_of(c.get("/console/queue?age=24").text) == [us]
    assert set(order_of(c.get("/console/queue?assignee=nobody").text)) == {us, de, fr}
    assert order_of(c.get("/console/queue?assignee=me").text) == []
    me = c.form(f"/console/cases/{de}/act", {"action": "assign_me", "back": "/console/queue"})
    assert me.status_code == 303 and me.headers["location"].startswith("/console/queue")
    assert order_of(c.get("/console/queue?assignee=me").text) == [de]
    assert de not in order_of(c.get("/console/queue?assignee=nobody").text)


def test_bad_filters_come_back_in_the_users_language(rt: Runtime) -> None:
    store = make_store(rt)
    seed_case(rt, store.id)
    c = console_as(rt, "operator", [store.id], locale="zh-CN")
    answer = c.get("/console/queue?value_min=lots&country=Germany&kind=nope")
    assert answer.status_code == 422
    assert "请输入金额" in answer.text and "请输入两位国家代码" in answer.text
    assert 'aria-invalid="true"' in answer.text and 'value="lots"' in answer.text


def test_the_phone_and_the_customers_local_time(rt: Runtime) -> None:
    store = make_store(rt)  # the clock: 2026-05-01 10:00 UTC, a Friday
    tokyo = seed_case(rt, store.id, phone="+81312345678", timezone="Asia/Tokyo")
    la = seed_case(rt, store.id, phone="+13105550100", timezone="America/Los_Angeles")
    html = console_as(rt, "operator", [store.id]).get("/console/queue").text
    assert 'href="tel:+81312345678"' in html
    assert "19:00 there (Asia/Tokyo) · a good time to call" in html
    assert "03:00 there (America/Los_Angeles) · not a good time to call" in html
    assert {tokyo, la} == set(order_of(html))


def test_viewers_see_no_actions_and_other_stores_are_hidden(rt: Runtime) -> None:
    mine, theirs = make_store(rt, "Mine"), make_store(rt, "Theirs")
    seen = seed_case(rt, mine.id)
    hidden = seed_case(rt, theirs.id)
    viewer = console_as(rt, "viewer", [mine.id])
    html = viewer.get("/console/queue").text
    assert order_of(html) == [seen] and hidden not in order_of(html)
    assert 'value="take_out"' not in html and "/act" not in html
    assert viewer.get(f"/console/queue?store={theirs.id}").status_code == 404


def test_manual_cases_are_listed_with_their_state(rt: Runtime) -> None:
    store = make_store(rt)
    case_id = seed_case(rt, store.id)
    c = console_as(rt, "operator", [store.id])
    assert c.form(f"/console/cases/{case_id}/act", {"action": "take_out"}).status_code == 303
    html = c.get("/console/queue").text
    assert "Worked by hand" in html and 'value="resume"' in html
    assert casework.Outcome.NO_ANSWER.value in html
