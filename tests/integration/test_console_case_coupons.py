"""Issuing a coupon from a case's page (SPEC S11, S6), on SQLite and PostgreSQL: created on
the store's platform the way a flow's coupon is (the platform's API is a real local HTTP
server recording what Reclaim sent, as in test_coupon_push.py), or left for the merchant to
import where Reclaim cannot; its code on the page, on the timeline and in the audit log; bad
input refused beside its field with nothing saved; viewers (403) and other stores (404)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from casework_support import seed_case
from console_support import console_as
from helpers import make_store
from reclaim.adapters.db.tables import audit_log, coupons
from reclaim.bootstrap import Runtime
from unit.channels.channel_servers import HttpServer, Reply

SHOPIFY_CREATED = {
    "data": {
        "discountCodeBasicCreate": {
            "codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/78"},
            "userErrors": [],
        }
    }
}


@pytest.fixture
def api() -> Iterator[HttpServer]:
    server = HttpServer()
    yield server
    server.close()


def _coupons(rt: Runtime) -> list[Any]:
    with rt.engine.connect() as db:
        return list(db.execute(select(coupons).order_by(coupons.c.id)))


def _audit(rt: Runtime, action: str) -> list[Any]:
    with rt.engine.connect() as db:
        return list(db.execute(select(audit_log).where(audit_log.c.action == action)))


def _events(rt: Runtime, case_id: int) -> list[tuple[str, dict[str, object]]]:
    with rt.reader() as uow:
        return [(type, data) for _, type, data in uow.cases.events(case_id)]


def test_a_coupon_is_created_at_the_store_and_its_code_shown(rt: Runtime, api: HttpServer) -> None:
    store = make_store(rt, platform_api_url=api.url, platform_api_token="shpat_x")
    case_id = seed_case(rt, store.id)
    c = console_as(rt, "operator", [store.id], email="ana@ops.example")
    form = c.get(f"/console/cases/{case_id}").text
    assert f'action="/console/cases/{case_id}/coupon"' in form and 'name="days"' in form
    api.replies.append(Reply.json(200, SHOPIFY_CREATED))
    done = c.form(
        f"/console/cases/{case_id}/coupon", {"kind": "percent", "value": "15", "days": "3"}
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/console/cases/{case_id}?done=coupon_pushed"
    [row] = _coupons(rt)
    assert (row.case_id, row.kind, row.value, row.currency) == (case_id, "percent", 15, "EUR")
    assert row.expires_at == rt.clock() + timedelta(days=3)
    assert (row.push_state, row.platform_ref) == ("pushed", "gid://shopify/DiscountCodeNode/78")
    [call] = api.requests  # the same call the engine makes for a flow's coupon
    assert call.headers["x-shopify-access-token"] == "shpat_x"
    d = json.loads(call.body)["variables"]["d"]
    assert d["code"] == row.code and (d["usageLimit"], d["appliesOncePerCustomer"]) == (1, True)
    assert d["customerGets"]["value"] == {"percentage": 0.15}
    events = _events(rt, case_id)
    assert [t for t, _ in events] == ["coupon_issued", "coupon_pushed"]
    assert events[0][1] == {"code": row.code, "by": "console:ana@ops.example"}
    [entry] = _audit(rt, "case.coupon")
    assert entry.actor == "console:ana@ops.example" and entry.subject == str(case_id)
    assert entry.after["code"] == row.code and entry.after["value"] == "15"
    html = c.get(done.headers["location"]).text
    assert f'<code class="coupon-code">{row.code}</code>' in html
    assert "Created at the store: it works at checkout." in html
    assert "read its code to the customer" in html


def test_where_reclaim_cannot_create_it_the_coupon_is_left_to_import_and_says_so(
    rt: Runtime,
) -> None:
    store = make_store(rt, coupons_imported=True)  # no API access: the merchant imports
    case_id = seed_case(rt, store.id)
    c = console_as(rt, "operator", [store.id])
    assert "works once the merchant imports" in c.get(f"/console/cases/{case_id}").text
    done = c.form(
        f"/console/cases/{case_id}/coupon", {"kind": "fixed", "value": "7.50", "days": "10"}
    )
    assert done.headers["location"].endswith("done=coupon_exported")
    [row] = _coupons(rt)
    assert (row.kind, row.value, row.push_state) == ("fixed", Decimal("7.50"), "exported")
    assert "no platform API access" in row.push_error
    assert [t for t, _ in _events(rt, case_id)] == ["coupon_issued", "coupon_exported"]
    html = c.get(done.headers["location"]).text
    assert row.code in html and "Not at the store yet: it works once the merchant" in html
    # A store whose checkout would refuse the code: no coupon, and the page says why.
    bare = make_store(rt, "Bare")
    other = seed_case(rt, bare.id)
    admin = console_as(rt, "admin")
    page = admin.get(f"/console/cases/{other}").text
    assert "Reclaim cannot create coupons at this store" in page
    assert f"/console/cases/{other}/coupon" not in page
    refused = admin.form(
        f"/console/cases/{other}/coupon", {"kind": "percent", "value": "5", "days": "2"}
    )
    assert refused.status_code == 409 and len(_coupons(rt)) == 1


def test_a_coupon_the_platform_did_not_take_is_marked_and_can_be_pushed_again(
    rt: Runtime, api: HttpServer
) -> None:
    store = make_store(rt, platform_api_url=api.url, platform_api_token="shpat_x")
    case_id = seed_case(rt, store.id)
    c = console_as(rt, "operator", [store.id])
    api.replies.append(Reply(status=503))
    done = c.form(
        f"/console/cases/{case_id}/coupon", {"kind": "percent", "value": "10", "days": "2"}
    )
    assert done.headers["location"].endswith("done=coupon_failed")
    [row] = _coupons(rt)
    assert row.push_state is None and row.push_error
    html = c.get(done.headers["location"]).text
    assert "do not give it to the customer until it is created there" in html
    assert f'name="code" value="{row.code}"' in html
    api.replies.append(Reply.json(200, SHOPIFY_CREATED))
    again = c.form(f"/console/cases/{case_id}/coupon/push", {"code": row.code})
    assert again.headers["location"].endswith("done=coupon_pushed")
    [row] = _coupons(rt)
    assert (row.push_state, row.push_error) == ("pushed", None) and len(api.requests) == 2
    assert len(_audit(rt, "case.coupon_push")) == 1
    assert c.form(f"/console/cases/{case_id}/coupon/push", {"code": row.code}).status_code == 409


@pytest.mark.parametrize(
    ("form", "field", "says"),
    [
        ({"kind": "free_lunch", "value": "5", "days": "3"}, "kind", "请选择按百分比折扣"),
        ({"kind": "percent", "value": "lots", "days": "3"}, "value", "请填写大于 0 的数字"),
        ({"kind": "percent", "value": "150", "days": "3"}, "value", "请填写大于 0 的数字"),
        ({"kind": "fixed", "value": "0.001", "days": "3"}, "value", "请填写大于 0 的数字"),
        ({"kind": "fixed", "value": "-5", "days": "3"}, "value", "请填写大于 0 的数字"),
        ({"kind": "percent", "value": "5", "days": "0"}, "days", "1 到 90 之间的整数"),
        ({"kind": "percent", "value": "5", "days": "2.5"}, "days", "1 到 90 之间的整数"),
        ({"kind": "percent", "value": "20", "days": "3"}, "value", "低于店铺的最低利润率"),
    ],
)
def test_bad_input_is_refused_beside_its_field_and_nothing_is_saved(
    rt: Runtime, api: HttpServer, form: dict[str, str], field: str, says: str
) -> None:
    store = make_store(
        rt,
        platform_api_url=api.url,
        platform_api_token="shpat_x",
        gross_margin=Decimal("0.40"),
        margin_floor=Decimal("0.30"),  # room for 10 % off at most
    )
    case_id = seed_case(rt, store.id)
    c = console_as(rt, "operator", [store.id], locale="zh-CN")
    bad = c.form(f"/console/cases/{case_id}/coupon", form)
    assert bad.status_code == 422 and says in bad.text
    ids = {"kind": "cp-kind", "value": "cp-value", "days": "cp-days"}
    assert f'id="{ids[field]}" name="{field}"' in bad.text
    assert f'aria-invalid="true" aria-describedby="err-{field}"' in bad.text
    assert f'value="{form["value"]}"' in bad.text  # what was typed is kept
    assert _coupons(rt) == [] and _events(rt, case_id) == [] and _audit(rt, "case.coupon") == []
    assert api.requests == []


def test_viewers_get_403_and_other_stores_cases_404(rt: Runtime, api: HttpServer) -> None:
    mine = make_store(rt, "Mine", platform_api_url=api.url, platform_api_token="shpat_x")
    theirs = make_store(rt, "Theirs", platform_api_url=api.url, platform_api_token="shpat_x")
    case_id, hidden = seed_case(rt, mine.id), seed_case(rt, theirs.id)
    form = {"kind": "percent", "value": "10", "days": "2"}
    viewer = console_as(rt, "viewer", [mine.id])
    assert f"/console/cases/{case_id}/coupon" not in viewer.get(f"/console/cases/{case_id}").text
    assert viewer.form(f"/console/cases/{case_id}/coupon", form).status_code == 403
    operator = console_as(rt, "operator", [mine.id])
    assert operator.form(f"/console/cases/{hidden}/coupon", form).status_code == 404
    assert operator.form(f"/console/cases/{hidden}/coupon/push", {"code": "X"}).status_code == 404
    assert _coupons(rt) == [] and api.requests == []
    assert _audit(rt, "case.coupon") == [] and _audit(rt, "case.coupon_push") == []
