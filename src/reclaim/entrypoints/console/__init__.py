"""The operations console (SPEC S11): server-rendered pages under ``/console`` (Jinja2, htmx 2
and Chart.js vendored under ``static/vendor`` with their licences, nothing fetched at run time),
for the console's users (``reclaim user add``). One module a page group under ``pages/``;
sign-in, sessions and CSRF in ``auth``; the layout's helpers in ``render``; words in ``words``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from reclaim.entrypoints.console.errors import console_error, is_console
from reclaim.entrypoints.console.pages import ROUTERS

STATIC = Path(__file__).parent / "static"

__all__ = ["ROUTERS", "add_console", "console_error", "is_console"]


def add_console(app: FastAPI) -> None:
    """The console's routes and static files on ``app`` (the API's application)."""
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    for router in ROUTERS:
        # Each route itself, not a lazy branch (see api/app.py's add_routes): what reads
        # ``app.routes`` (the hostile-server test probes every route) finds the pages too.
        app.router.routes.extend(router.routes)
