"""Swagger UI at ``/docs``, served by Reclaim itself (``RECLAIM_API_DOCS=true``; off by
default).

FastAPI's own page loads Swagger UI from a CDN, which a self-hosted or offline install may not
reach, and starts it with an inline script, which the strict Content-Security-Policy of
Reclaim's pages forbids. Here the page names only files under ``/docs-assets/``: Swagger UI's
bundle and stylesheet, vendored from the npm package ``swagger-ui-dist`` (Apache-2.0; version,
source and checksum in ``static/docs/VERSION``, licences next to it), and ``init.js``, which
starts it. The page gets its own CSP, which allows scripts, styles and the schema's fetch
from Reclaim's origin and nothing from anywhere else; every other page keeps the strict one
(:data:`reclaim.entrypoints.edge.CSP`). ReDoc is not served: one UI, one set of assets.
"""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

ASSETS = Path(__file__).parent / "static" / "docs"
PREFIX = "/docs-assets"
# Swagger UI styles some elements inline (React style attributes), hence 'unsafe-inline' for
# styles only; its stylesheet's icons are data: URLs.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)


def page(title: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} – API</title>
<link rel="stylesheet" href="{PREFIX}/swagger-ui.css">
<link rel="icon" type="image/png" href="{PREFIX}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{PREFIX}/swagger-ui-bundle.js"></script>
<script src="{PREFIX}/init.js"></script>
</body>
</html>
"""


def add_docs(app: FastAPI) -> None:
    """Serve ``/docs`` and its assets under ``/docs-assets/`` (call only when docs are on)."""
    app.mount(PREFIX, StaticFiles(directory=ASSETS), name="docs-assets")
    body = page(app.title)

    @app.get("/docs", include_in_schema=False)
    def _docs() -> HTMLResponse:
        return HTMLResponse(body, headers={"Content-Security-Policy": DOCS_CSP})
