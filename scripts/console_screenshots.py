"""Screenshots of every console page on the demo's data, for docs/img/ (issue 13).

    bash scripts/demo --no-serve --dir /tmp/reclaim-demo      # once: the demo's data
    .venv/bin/python scripts/console_screenshots.py /tmp/reclaim-demo

Serves the demo's database (the clock stopped at its last case, as ``reclaim demo`` does) on
a free port, signs in through the form with the demo's admin (``console.json``), opens each
page in Debian's headless Chromium (Playwright, ``/usr/bin/chromium``) at laptop size, a few
at phone size and in Simplified Chinese, and writes ``docs/img/console-<page>.png``. Look at
them before calling a page done.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import uvicorn
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import text

from reclaim.bootstrap import bootstrap
from reclaim.config import load_settings
from reclaim.entrypoints.api import create_app
from reclaim.services.users import update_user

OUT = Path(__file__).resolve().parents[1] / "docs" / "img"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
# (file name, path; {store}, {case}, {customer}, {flow_kind} filled from the data)
PAGES = [
    ("dashboard", "/console/dashboard?store={store}&period={month}"),
    ("queue", "/console/queue?store={store}"),
    ("case", "/console/cases/{case}"),
    ("customer", "/console/customers/{store}/{customer}"),
    ("customers", "/console/customers?store={store}"),
    ("flows", "/console/flows?store={store}"),
    ("templates", "/console/templates?store={store}"),
    (
        "template-preview",
        "/console/templates/preview?store={store}&key=abandoned_checkout/reminder&channel=email"
        "&locale=zh-CN&case={case}",
    ),
    ("template-edit", "/console/templates/edit?store={store}&key=abandoned_checkout/reminder"),
    ("flow-edit", "/console/flows/edit?store={store}&kind=abandoned_checkout"),
    ("experiments", "/console/experiments?store={store}"),
    ("coupons", "/console/coupons?store={store}"),
    ("suppressions", "/console/suppressions?store={store}"),
    ("stock", "/console/stock?store={store}"),
    ("logistics", "/console/logistics?store={store}"),
    ("inbox", "/console/inbox?store={store}"),
    ("alerts", "/console/alerts?store={store}"),
    ("reports", "/console/reports?store={store}&period={month}"),
    ("settings", "/console/settings?store={store}"),
    ("settings-store", "/console/settings/stores/{store}"),
    ("settings-keys", "/console/settings/stores/{store}/keys"),
    ("settings-users", "/console/settings/users"),
    ("inbox-test", "/console/inbox/test?store={store}"),
    ("audit", "/console/audit"),
]
PHONE = {"dashboard", "queue", "case"}
CHINESE = {"dashboard", "queue", "case"}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _values(rt: object) -> dict[str, str]:
    engine = rt.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        store, case, customer = conn.execute(
            text(
                "SELECT c.store_id, c.id, c.customer_key FROM cases c JOIN stores s"
                " ON s.id = c.store_id WHERE c.status = 'open' AND c.customer_key IS NOT NULL"
                " AND s.platform = 'shopify' ORDER BY c.value DESC LIMIT 1"
            )
        ).one()
        # The month with most of the store's cases (the demo's days may straddle two).
        month = conn.execute(
            text(
                "SELECT substr(CAST(created_at AS TEXT), 1, 7) AS m FROM cases"
                " WHERE store_id = :s GROUP BY m ORDER BY count(*) DESC LIMIT 1"
            ),
            {"s": store},
        ).scalar()
    return {"store": store, "case": str(case), "customer": quote(customer, safe=""), "month": month}


def _shoot(page: Page, name: str, path: str) -> None:
    answer = page.goto(path)
    page.wait_for_load_state("networkidle")
    status = answer.status if answer else 0
    file = OUT / f"console-{name}.png"
    # The whole page, but no taller than two screens' worth (a long list shows its top).
    size = page.viewport_size or {"width": 1366, "height": 900}
    height = min(page.evaluate("document.documentElement.scrollHeight"), 2 * size["height"])
    page.screenshot(
        path=str(file), full_page=True, clip={"x": 0, "y": 0, "width": size["width"], "height": height}
    )
    print(f"{status}  {path}  ->  {file.relative_to(OUT.parents[1])}")


def main(folder: str) -> None:
    demo = Path(folder)
    login = json.loads((demo / "console.json").read_text())
    url = f"sqlite:///{demo / 'reclaim.sqlite3'}"
    probe = bootstrap(load_settings(database_url=url))
    with probe.engine.connect() as conn:
        last = conn.execute(text("SELECT max(created_at) FROM cases")).scalar()
    probe.close()
    end = last if isinstance(last, datetime) else datetime.fromisoformat(str(last))
    end = end.replace(tzinfo=end.tzinfo or UTC) + timedelta(hours=1)
    port = _port()
    rt = bootstrap(
        load_settings(database_url=url, public_url=f"http://127.0.0.1:{port}"),
        clock=lambda: end,
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(rt), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    values = _values(rt)
    # English first, whatever an earlier run left (the language is kept with the user).
    update_user(uow=rt.uow(), hasher=rt.passwords, email=login["email"], locale="en", now=end)
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        context = browser.new_context(
            base_url=f"http://127.0.0.1:{port}", viewport={"width": 1366, "height": 900}
        )
        page = context.new_page()
        page.goto("/console/login")
        _shoot(page, "login", "/console/login")
        page.get_by_label("Email").fill(login["email"])
        page.get_by_label("Password").fill(login["password"])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        for name, path in PAGES:
            _shoot(page, name, path.format(**values))
        phone = browser.new_context(
            base_url=f"http://127.0.0.1:{port}",
            viewport={"width": 390, "height": 844},
            device_scale_factor=1.5,
            storage_state=context.storage_state(),
        ).new_page()
        for name, path in PAGES:
            if name in PHONE:
                _shoot(phone, f"{name}-phone", path.format(**values))
        page.goto("/console/dashboard")
        page.select_option("#locale-pick", "zh-CN")
        page.wait_for_load_state()
        for name, path in PAGES:
            if name in CHINESE:
                _shoot(page, f"{name}-zh", path.format(**values))
        page.select_option("#locale-pick", "en")
        page.wait_for_load_state()
        browser.close()
    server.should_exit = True
    rt.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "reclaim-demo")
