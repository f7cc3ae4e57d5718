"""The console's page groups, one router each, in the order their routes are matched."""

from __future__ import annotations

from fastapi import APIRouter

from reclaim.entrypoints.console.pages import session

ROUTERS: list[APIRouter] = [
    session.router,
]
