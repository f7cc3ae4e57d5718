"""The console's page groups, one router each, in the order their routes are matched."""

from __future__ import annotations

from fastapi import APIRouter

from reclaim.entrypoints.console.pages import (
    alerts,
    audit,
    cases,
    coupons,
    customers,
    dashboard,
    experiments,
    flows,
    inbox,
    logistics,
    queue,
    reports,
    session,
    settings,
    settings_account,
    settings_keys,
    settings_users,
    stock,
    suppressions,
    templates,
)

ROUTERS: list[APIRouter] = [
    session.router,
    queue.router,
    cases.router,
    customers.router,
    dashboard.router,
    reports.router,
    experiments.router,
    audit.router,
    flows.router,
    templates.router,
    stock.router,
    logistics.router,
    inbox.router,
    coupons.router,
    suppressions.router,
    alerts.router,
    settings.router,
    settings_keys.router,
    settings_users.router,
    settings_account.router,
]
