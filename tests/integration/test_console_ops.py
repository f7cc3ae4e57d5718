"""The operations pages of the console (SPEC S11), on SQLite and PostgreSQL: stock and holds
(extending a hold), logistics exceptions, the dead-letter inbox (inspecting and replaying a
delivery, test-mode deliveries), coupons, suppressions and alerts. Each renders its store's
data, each action changes state and is in the audit log as ``console:<email>``, viewers are
refused (403), another store is a 404, and bad input comes back (422) with nothing saved."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from console_support import console_as
from helpers import client, make_store, shopify_headers
from reclaim.bootstrap import Runtime
from reclaim.domain.holds import MAX_HOLD
from reclaim.services import holds, stock_view, suppressions
from reclaim.services.audit import list_entries
from reclaim.services.ports import WarehouseRow

NEXT = re.compile(r'<a class="button" rel="next" href="([^"]+)"')


def _stock(rt: Runtime, store_id: str, skus: int = 3) -> None:
    now = rt.clock()
    row = WarehouseRow(store_id, "WH1", "DE", None, "Europe/Berlin", "14:00", "12345")
    holds.import_warehouses(uow=rt.uow(), store_id=store_id, rows=[row], now=now)
    changes = [holds.StockChange("WH1", f"SKU-{i:03d}", on_hand=10) for i in range(skus)]
    holds.update_stock(uow=rt.uow(), store_id=store_id, changes=changes, now=now)


def _hold(rt: Runtime, store_id: str, order: str, sku: str = "SKU-000") -> holds.Hold:
    return holds.place_hold(
        uow=rt.uow(), store_id=store_id, order_external_id=order, items=[(sku, 2)], now=rt.clock()
    )


def _audit(rt: Runtime, store_id: str, action: str) -> list[tuple[str, str]]:
    entries = list_entries(uow=rt.reader(), store_id=store_id)
    return [(e.actor, e.subject) for e in entries if e.action == action]


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_stock_and_holds_render_and_a_hold_is_extended(rt: Runtime) -> None:
    store = make_store(rt)
    _stock(rt, store.id)
    held = _hold(rt, store.id, "o-77")
    c = console_as(rt, "operator", [store.id])
    page = c.get("/console/stock")
    assert page.status_code == 200
    text = _text(page.text)
    assert "o-77" in text and "SKU-000 × 2" in text and "SKU-002" in text
    assert re.search(r"SKU-000.*?10.*?2.*?8", text, re.S)  # on hand, reserved, available
    until = (held.created_at + MAX_HOLD - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    done = c.form(
        "/console/stock/holds/extend", {"store": store.id, "order": "o-77", "until": until}
    )
    assert done.status_code == 303 and "done=stock.done.extended" in done.headers["location"]
    after = stock_view.hold_page(uow=rt.reader(), store_id=store.id).holds[0]
    assert after.expires_at == held.created_at + MAX_HOLD - timedelta(hours=1)
    assert _audit(rt, store.id, "hold.extend") == [("console:operator@example.com", "o-77")]
    assert "The hold was extended." in c.get(done.headers["location"]).text


def test_a_bad_hold_end_comes_back_with_nothing_saved(rt: Runtime) -> None:
    store = make_store(rt)
    _stock(rt, store.id)
    held = _hold(rt, store.id, "o-78")
    c = console_as(rt, "operator", [store.id], locale="zh-CN")
    too_late = (held.created_at + MAX_HOLD + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    for until in (too_late, "tomorrow"):
        answer = c.form(
            "/console/stock/holds/extend", {"store": store.id, "order": "o-78", "until": until}
        )
        assert answer.status_code == 422
        assert 'aria-invalid="true"' in answer.text and f'value="{until}"' in answer.text
        assert "不超过下单后 7 天" in answer.text or "请输入日期和时间" in answer.text
    assert stock_view.hold_page(uow=rt.reader(), store_id=store.id).holds[0].expires_at == (
        held.expires_at
    )
    assert _audit(rt, store.id, "hold.extend") == []


def test_stock_pages_follow_the_cursor_to_every_level(rt: Runtime) -> None:
    store = make_store(rt)
    _stock(rt, store.id, skus=120)
    c = console_as(rt, "viewer", [store.id])
    seen: list[str] = []
    url: str | None = f"/console/stock?store={store.id}"
    while url:
        html = c.get(unescape(url)).text
        seen += re.findall(r"<td><code>(SKU-\d+)</code></td><td>WH1", html)
        found = NEXT.findall(html)
        url = found[-1] if found else None
    assert seen == [f"SKU-{i:03d}" for i in range(120)]


def test_viewers_see_no_actions_and_are_refused(rt: Runtime) -> None:
    store = make_store(rt)
    _stock(rt, store.id)
    _hold(rt, store.id, "o-79")
    c = console_as(rt, "viewer", [store.id])
    page = c.get("/console/stock").text
    assert "o-79" in page and "/console/stock/holds/extend" not in page
    extend = {"store": store.id, "order": "o-79", "until": "2026-05-06T10:00"}
    assert c.form("/console/stock/holds/extend", extend).status_code == 403
    assert c.form("/console/inbox/replay", {"store": store.id}).status_code == 403
    address = {"store": store.id, "channel": "email", "address": "x@example.com"}
    assert c.form("/console/suppressions/add", address).status_code == 403
    assert c.form("/console/suppressions/remove", address).status_code == 403
    assert "/console/suppressions/add" not in c.get("/console/suppressions").text
    assert _audit(rt, store.id, "hold.extend") == []


def test_another_store_is_not_found(rt: Runtime) -> None:
    mine, theirs = make_store(rt), make_store(rt, "Theirs")
    _stock(rt, theirs.id)
    _hold(rt, theirs.id, "o-80")
    c = console_as(rt, "operator", [mine.id])
    for path in ("stock", "logistics", "inbox", "inbox/test", "coupons", "suppressions", "alerts"):
        assert c.get(f"/console/{path}?store={theirs.id}").status_code == 404, path
        assert c.get(f"/console/{path}").status_code == 200, path
    extend = {"store": theirs.id, "order": "o-80", "until": "2026-05-06T10:00"}
    assert c.form("/console/stock/holds/extend", extend).status_code == 404
    assert c.form("/console/inbox/replay", {"store": theirs.id}).status_code == 404
    address = {"store": theirs.id, "channel": "email", "address": "x@example.com"}
    assert c.form("/console/suppressions/add", address).status_code == 404
    assert _audit(rt, theirs.id, "hold.extend") == []
    assert (
        suppressions.check(
            uow=rt.reader(), store_id=theirs.id, channel="email", address="x@example.com"
        )
        is None
    )


def _dead_letter(rt: Runtime, store_id: str) -> int:
    junk = b'{"token": "abc", "email": "ana@example.com", "total_price": "lots"'
    api = client(rt)
    r = api.post(
        f"/webhooks/shopify/{store_id}",
        content=junk,
        headers=shopify_headers(junk, "checkouts/update", "j1"),
    )
    assert r.status_code == 422
    with rt.reader() as uow:
        [dead] = uow.inbox.list(store_id=store_id, statuses=["failed"], limit=5)
    return dead.id


def test_a_dead_letter_is_listed_inspected_and_replayed(rt: Runtime) -> None:
    store = make_store(rt)
    other = make_store(rt, "Other")
    dead = _dead_letter(rt, store.id)
    theirs = _dead_letter(rt, other.id)
    c = console_as(rt, "operator", [store.id])
    listed = c.get("/console/inbox").text
    assert f'href="/console/inbox/{dead}?store={store.id}"' in listed
    assert f"/console/inbox/{theirs}" not in listed
    one = c.get(f"/console/inbox/{dead}?store={store.id}")
    assert one.status_code == 200 and one.headers["cache-control"] == "no-store"
    assert "checkouts/update" in one.text and "X-Shopify-Topic".lower() in one.text.lower()
    assert "&#34;total_price&#34;: &#34;lots&#34;" in one.text  # the body, escaped
    assert c.get(f"/console/inbox/{theirs}?store={store.id}").status_code == 404
    assert c.form(f"/console/inbox/{theirs}/replay", {"store": store.id}).status_code == 404
    done = c.form(f"/console/inbox/{dead}/replay", {"store": store.id})
    assert done.status_code == 303 and "inbox.done.replayed" in done.headers["location"]
    with rt.reader() as uow:
        assert uow.inbox.get(dead).status == "received"  # queued for the worker
        assert uow.inbox.get(theirs).status == "failed"
    assert _audit(rt, store.id, "inbox.replay") == [("console:operator@example.com", store.id)]
    assert "1 delivery queued" in c.get(done.headers["location"]).text
    again = c.form(f"/console/inbox/{dead}/replay", {"store": store.id})
    assert "inbox.done.nothing" in again.headers["location"]


def test_every_dead_letter_of_a_store_is_replayed_and_test_mode_is_explained(
    rt: Runtime,
) -> None:
    from helpers import checkout_event, post_events

    store = make_store(rt)
    dead = _dead_letter(rt, store.id)
    api = client(rt)
    test_event = checkout_event(rt.clock(), checkout_id="t1", test=True)
    assert post_events(api, store.api_key, test_event).status_code == 202
    from reclaim.entrypoints.worker import run_once

    run_once(rt, rt.clock() + timedelta(hours=1))
    c = console_as(rt, "admin", locale="zh-CN")
    listed = c.get(f"/console/inbox?store={store.id}").text
    assert "1 条测试模式投递" in listed
    tests = c.get(f"/console/inbox/test?store={store.id}").text
    assert "平台将其标记为测试" in tests and "test mode: the platform marked it" in tests
    done = c.form("/console/inbox/replay", {"store": store.id})
    assert done.status_code == 303
    with rt.reader() as uow:
        assert uow.inbox.get(dead).status == "received"
    assert _audit(rt, store.id, "inbox.replay") == [("console:admin@example.com", store.id)]


def test_suppressions_are_counted_checked_added_and_removed(rt: Runtime) -> None:
    store = make_store(rt)
    c = console_as(rt, "operator", [store.id])
    form = {"store": store.id, "channel": "email", "address": "Lena@Example.com"}
    added = c.form("/console/suppressions/add", form)
    assert added.status_code == 200 and "Added to the list" in added.text
    assert "Lena@Example.com" not in added.text  # not echoed back
    entry = suppressions.check(
        uow=rt.reader(), store_id=store.id, channel="email", address="lena@example.com"
    )
    assert entry is not None and entry.reason == "manual"
    assert "Added by an operator" in c.get("/console/suppressions").text
    checked = c.form("/console/suppressions/check", form)
    assert "This address is on the list" in checked.text
    [(actor, subject)] = _audit(rt, store.id, "suppression.add")
    assert actor == "console:operator@example.com" and subject.startswith("hash:")
    assert "lena" not in subject.lower()
    removed = c.form("/console/suppressions/remove", form)
    assert "Taken off the list" in removed.text
    assert (
        suppressions.check(
            uow=rt.reader(), store_id=store.id, channel="email", address="lena@example.com"
        )
        is None
    )
    assert [a for a, _ in _audit(rt, store.id, "suppression.remove")] == [
        "console:operator@example.com"
    ]


def test_a_bad_suppression_form_comes_back_with_nothing_saved(rt: Runtime) -> None:
    store = make_store(rt)
    c = console_as(rt, "operator", [store.id], locale="zh-CN")
    for data, field in (
        ({"channel": "email", "address": "  "}, "address"),
        ({"channel": "fax", "address": "x@example.com"}, "channel"),
    ):
        answer = c.form("/console/suppressions/add", {"store": store.id, **data})
        assert answer.status_code == 422
        assert f'id="f-{field}"' in answer.text and f'aria-describedby="e-{field}"' in answer.text
        assert "未保存" in answer.text
    assert suppressions.counts(uow=rt.reader(), store_id=store.id) == {}
    assert _audit(rt, store.id, "suppression.add") == []


def test_coupons_logistics_and_alerts_render(rt: Runtime) -> None:
    from casework_support import seed_case
    from reclaim.domain.steps import Coupon
    from reclaim.services.alerts import raise_alert

    store = make_store(rt)
    case_id = seed_case(rt, store.id)
    now = rt.clock()
    with rt.uow() as uow:
        uow.coupons.add(
            Coupon(
                store.id,
                case_id,
                "SAVE-10-ABC",
                "percent",
                10,
                "EUR",
                now + timedelta(days=7),
                now,
                push_state="exported",
            )
        )
        raise_alert(
            uow, store.id, "sending_paused", {"sent": 100, "complaints": 1}, now=now, every=None
        )
        uow.commit()
    c = console_as(rt, "viewer", [store.id], locale="zh-CN")
    coupons = c.get("/console/coupons").text
    assert "SAVE-10-ABC" in coupons and "需手动导入" in coupons
    assert "SAVE-10-ABC" not in c.get("/console/coupons?push=pushed").text
    alerts = c.get("/console/alerts").text
    assert "已暂停发送" in alerts and "1 complaints for 100 emails" in alerts
    assert "没有需要处理的包裹" in c.get("/console/logistics").text
    late = seed_case(
        rt,
        store.id,
        kind="shipment_exception",
        reason="late",
        subject_id="SHIP-9:late:1",
        order_external_id="o-9",
    )
    logistics = c.get("/console/logistics").text
    assert f"#{late}" in logistics and "SHIP-9" in logistics and "已超时" in logistics
    assert f"#{case_id}" not in logistics  # not a logistics case
