"""Swagger UI at /docs is served by Reclaim itself (issue 14): a self-hosted or offline
install cannot reach a CDN, and the page must pass the strict CSP of every other page but
for scripts, styles and the schema fetch from Reclaim's own origin. Off by default."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reclaim.bootstrap import Runtime, bootstrap
from reclaim.config import Settings
from reclaim.entrypoints.api import create_app

TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
}


@pytest.fixture
def docs_on(sqlite_rt: Runtime) -> Iterator[TestClient]:
    rt = bootstrap(Settings(database_url=sqlite_rt.settings.database_url, api_docs=True))
    try:
        yield TestClient(create_app(rt))
    finally:
        rt.close()


def assets(page: str) -> list[str]:
    return re.findall(r"""(?:src|href)=["']([^"']+)["']""", page)


def test_docs_load_every_asset_from_reclaim_itself(docs_on: TestClient) -> None:
    r = docs_on.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    for cdn in ("cdn.", "jsdelivr", "unpkg", "http:", "https:", "//"):
        assert cdn not in page, cdn
    urls = assets(page)
    assert {Path(u).suffix for u in urls} == {".js", ".css", ".png"}
    assert any(u.endswith("swagger-ui-bundle.js") for u in urls)
    for url in urls:
        assert url.startswith("/docs-assets/"), url
        got = docs_on.get(url)
        assert got.status_code == 200, url
        assert got.headers["content-type"].startswith(TYPES[Path(url).suffix]), url
        assert got.headers["x-content-type-options"] == "nosniff"
        assert len(got.content) > 100, url
    # no inline script: the page initialises Swagger UI from a file of Reclaim's own
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)
    init = next(u for u in urls if u.endswith("init.js"))
    js = docs_on.get(init).text
    assert "'/openapi.json'" in js and "validatorUrl: null" in js
    assert docs_on.get("/openapi.json").json()["info"]["title"] == "Reclaim"
    assert docs_on.get("/redoc").status_code == 404  # dropped: one UI, one set of assets


def test_the_docs_page_has_its_own_csp_and_every_other_page_keeps_the_strict_one(
    docs_on: TestClient,
) -> None:
    csp = docs_on.get("/docs").headers["content-security-policy"]
    rules = dict(rule.strip().split(" ", 1) for rule in csp.split(";"))
    assert rules["default-src"] == "'none'"
    assert rules["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval', no host
    assert rules["style-src"] == "'self' 'unsafe-inline'"
    assert rules["connect-src"] == "'self'"
    assert rules["img-src"] == "'self' data:"
    assert rules["frame-ancestors"] == "'none'"
    other = docs_on.get("/u/not-a-token").headers["content-security-policy"]
    assert "script-src" not in other and other.startswith("default-src 'none'")


def test_docs_and_their_assets_are_404_when_off(sqlite_rt: Runtime) -> None:
    c = TestClient(create_app(sqlite_rt))
    for path in (
        "/docs",
        "/redoc",
        "/docs-assets/swagger-ui-bundle.js",
        "/docs-assets/swagger-ui.css",
        "/docs-assets/init.js",
    ):
        assert c.get(path).status_code == 404, path


def test_the_vendored_files_ship_with_their_licence() -> None:
    import reclaim.entrypoints

    folder = Path(reclaim.entrypoints.__file__).parent / "static" / "docs"
    assert "Apache License" in (folder / "LICENSE").read_text()
    assert (folder / "swagger-ui-bundle.js.LICENSE.txt").exists()
    assert (folder / "NOTICE").exists() and (folder / "VERSION").read_text().strip()
