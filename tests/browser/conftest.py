"""Browser tests of the console (SPEC S11): a real server and a real headless Chromium.

``live``: the application (``create_app``, as ``reclaim serve`` builds it) served by uvicorn on
a free port of 127.0.0.1, in a thread, on a SQLite copy of the migrated schema, with the test's
movable clock. ``browser``: Debian's Chromium (``/usr/bin/chromium``) driven by Playwright,
once per test process (Playwright cannot download a browser here: ``scripts/test`` installs
Chromium with apt-get when missing, and these tests skip, saying so, where it is absent).
``page``: a fresh browser context (no cookies) and page for each test.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from browser_support import Live
from reclaim.bootstrap import bootstrap, init_database
from reclaim.config import Settings
from reclaim.entrypoints.api import create_app

CHROMIUM = Path("/usr/bin/chromium")
# As this machine kind's probe starts it: no network of its own, no first-run, no sandbox
# (root in a container), no GPU.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def live(tmp_path: Path, sqlite_template: Path, clock: Any) -> Iterator[Live]:
    path = tmp_path / "reclaim.sqlite3"
    shutil.copy(sqlite_template, path)
    port = _free_port()
    settings = Settings(
        database_url=f"sqlite:///{path}",
        public_url=f"http://127.0.0.1:{port}",
        rate_limit_enabled=False,
    )
    rt = bootstrap(settings, clock=clock)
    init_database(rt)
    config = uvicorn.Config(
        create_app(rt), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-console", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the console's server did not start")
        time.sleep(0.02)
    yield Live(url=f"http://127.0.0.1:{port}", rt=rt, clock=clock)
    server.should_exit = True
    thread.join(10)
    rt.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed (/usr/bin/chromium): `apt-get install chromium` "
            "(scripts/test does it when run as root)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        found = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield found
        found.close()


@pytest.fixture
def page(browser: Any, live: Live) -> Iterator[Any]:
    context = browser.new_context(base_url=live.url, viewport={"width": 1280, "height": 860})
    made = context.new_page()
    made.set_default_timeout(15_000)
    yield made
    context.close()
