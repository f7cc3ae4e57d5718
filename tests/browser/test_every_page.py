"""Every console page in a real Chromium (issue 13): it loads without a script error or a
Content-Security-Policy violation (htmx, Chart.js and console.js come from the console's own
files), every visible form field has a label a screen reader announces, the charts are drawn,
and the keyboard reaches the menu and the page's first action."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from browser_support import Live, sign_in
from casework_support import seed_case
from helpers import make_store

PAGES = [
    "/console/dashboard?store={store}",
    "/console/queue?store={store}",
    "/console/cases/{case}",
    "/console/customers/{store}/{customer}",
    "/console/customers?store={store}",
    "/console/flows?store={store}",
    "/console/flows/edit?store={store}&kind=abandoned_checkout",
    "/console/templates?store={store}",
    "/console/templates/edit?store={store}&key=abandoned_checkout/reminder",
    "/console/templates/preview?store={store}&key=abandoned_checkout/reminder&locale=zh-CN",
    "/console/experiments?store={store}",
    "/console/coupons?store={store}",
    "/console/suppressions?store={store}",
    "/console/stock?store={store}",
    "/console/logistics?store={store}",
    "/console/inbox?store={store}",
    "/console/inbox/test?store={store}",
    "/console/alerts?store={store}",
    "/console/reports?store={store}",
    "/console/settings",
    "/console/settings/stores/{store}",
    "/console/settings/stores/{store}/keys",
    "/console/settings/users",
    "/console/settings/account",
    "/console/audit",
]

# A field is labelled when a <label for>, a wrapping <label>, aria-label or aria-labelledby
# names it (what Chromium's accessibility tree would announce).
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML.slice(0, 120))"""


@pytest.fixture
def shop(live: Live) -> dict[str, str]:
    store = make_store(live.rt)
    case = seed_case(
        live.rt, store.id, value=Decimal("180"), country="DE", age=timedelta(hours=5),
        email="ana@example.com",
    )  # fmt: skip
    live.user("boss@example.com", "admin")
    return {"store": store.id, "case": str(case), "customer": "ana%40example.com"}


def test_every_page_loads_clean_with_labelled_fields(
    page: Any, live: Live, shop: dict[str, str]
) -> None:
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console: {msg.text}")
            if msg.type == "error" and "ERR_NAME_NOT_RESOLVED" not in msg.text
            else None
        ),
    )
    # Every answer of the console's own server (the shops' image hosts are not reachable here).
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and r.url.startswith(live.url)
            else None
        ),
    )
    sign_in(page, "boss@example.com")
    for template in PAGES:
        path = template.format(**shop)
        answer = page.goto(path)
        page.wait_for_load_state("networkidle")
        assert answer is not None and answer.status == 200, path
        unlabelled = page.evaluate(UNLABELLED)
        assert not unlabelled, f"{path}: fields without a label: {unlabelled}"
        assert page.locator("h1").count() >= 1, f"{path}: no heading"
    assert not problems, problems


def test_the_dashboards_charts_are_drawn(page: Any, live: Live, shop: dict[str, str]) -> None:
    sign_in(page, "boss@example.com")
    page.goto(f"/console/dashboard?store={shop['store']}")
    page.wait_for_load_state("networkidle")
    charts = page.locator("canvas[data-chart]")
    assert charts.count() >= 2
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-chart]')].every(c => c.dataset.drawn)"
    )
    assert page.evaluate("typeof window.Chart") == "function"
    assert page.evaluate("typeof window.htmx") == "object"


def test_the_keyboard_opens_the_menu_and_reaches_a_page(
    page: Any, live: Live, shop: dict[str, str]
) -> None:
    sign_in(page, "boss@example.com")
    page.goto(f"/console/queue?store={shop['store']}")
    page.keyboard.press("Tab")  # the skip link first
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Tab")  # the brand
    page.keyboard.press("Tab")  # the menu's summary
    page.keyboard.press("Enter")
    assert page.locator("details.menu").get_attribute("open") is not None
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "/console/dashboard"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/console/dashboard")
