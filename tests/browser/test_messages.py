"""Flows and templates in a real Chromium (issue 13): a flow edit refused with the error beside
its field, nothing saved, then corrected and saved; a template's preview in Simplified
Chinese, drawn in a sandboxed frame."""

from __future__ import annotations

from typing import Any

from browser_support import Live, sign_in
from casework_support import seed_case
from helpers import make_store
from reclaim.services.flows import list_flows


def _version(live: Live, store_id: str) -> int:
    versions = list_flows(uow=live.rt.reader(), store_id=store_id)
    return next(v.version for v in versions if v.kind == "abandoned_checkout" and v.active)


def test_a_flow_edit_is_refused_beside_its_field_then_saved(page: Any, live: Live) -> None:
    store = make_store(live.rt)
    live.user("ana@example.com", "operator", (store.id,))
    before = _version(live, store.id)
    sign_in(page, "ana@example.com")
    page.goto(f"/console/flows/edit?store={store.id}&kind=abandoned_checkout")
    delay = page.locator("#s1_after")
    delay.fill("soon")
    page.get_by_role("button", name="Save steps").click()
    page.wait_for_load_state()
    assert page.locator("#s1_after").get_attribute("aria-invalid") == "true"
    error = page.locator("#err-s1_after")
    assert error.is_visible() and "steps[1].after" in error.inner_text()
    assert page.locator("#s1_after").input_value() == "soon"  # what was typed is kept
    assert _version(live, store.id) == before  # nothing saved

    page.locator("#s1_after").fill("12h")
    page.get_by_role("button", name="Save steps").click()
    page.wait_for_load_state()
    assert "Saved" in page.locator("main").inner_text()
    assert _version(live, store.id) == before + 1


def test_a_template_preview_in_chinese(page: Any, live: Live) -> None:
    store = make_store(live.rt, name="Nordwolle")
    case = seed_case(live.rt, store.id)
    live.user("ana@example.com", "operator", (store.id,))
    sign_in(page, "ana@example.com")
    page.goto(
        f"/console/templates/preview?store={store.id}&key=abandoned_checkout/reminder"
        f"&channel=email&locale=zh-CN&case={case}"
    )
    main = page.locator("main").inner_text()
    assert "Nordwolle的购物车还在等您" in main  # the zh-CN subject, with the store's name
    frame = page.frame_locator("iframe").first
    assert "您还有商品没有结算" in frame.locator("body").inner_text()
    assert "Lamp" in frame.locator("body").inner_text()  # the real case's item
    assert page.locator("iframe").first.get_attribute("sandbox") == ""
