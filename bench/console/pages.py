"""The pages measured, each with its floor: the one SQL statement that fetches what the page
is mostly about (``:store``, ``:case``, ``:customer``, ``:month_from``/``:month_to`` bound)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Page:
    name: str
    path: str  # with {store}, {case}, {customer}
    floor: str  # SQL
    admin: bool = False


MONTH = "period=2026-11"
OPEN = "store_id = :store AND status = 'open'"

PAGES = (
    Page(
        "dashboard",
        "/console/dashboard?store={store}&" + MONTH,
        "SELECT count(*), sum(value) FROM cases WHERE store_id = :store"
        " AND created_at >= :month_from AND created_at < :month_to",
    ),
    Page(
        "dashboard trend",
        "/console/dashboard/trend?store={store}&" + MONTH,
        "SELECT count(*), sum(value) FROM cases WHERE store_id = :store"
        " AND created_at >= :month_from AND created_at < :month_to",
    ),
    Page(
        "queue",
        "/console/queue?store={store}",
        f"SELECT id, kind, value, currency, country, created_at FROM cases WHERE {OPEN}"
        " ORDER BY value DESC, id LIMIT 50",
    ),
    Page(
        "case",
        "/console/cases/{case}",
        "SELECT * FROM case_events WHERE case_id = :case ORDER BY id",
    ),
    Page(
        "customer",
        "/console/customers/{store}/{customer}",
        "SELECT * FROM cases WHERE store_id = :store AND customer_key = :customer",
    ),
    Page(
        "customers",
        "/console/customers?store={store}&q=c7",
        "SELECT id, email FROM cases WHERE store_id = :store AND email LIKE 'c7%' LIMIT 50",
    ),
    Page(
        "flows",
        "/console/flows?store={store}",
        "SELECT * FROM flows WHERE store_id = :store",
    ),
    Page(
        "flow edit",
        "/console/flows/edit?store={store}&kind=abandoned_checkout",
        "SELECT * FROM flows WHERE store_id = :store AND kind = 'abandoned_checkout'",
    ),
    Page(
        "template preview",
        "/console/templates/preview?store={store}&key=abandoned_checkout/reminder"
        "&locale=zh-CN&case={case}",
        "SELECT * FROM cases WHERE id = :case",
    ),
    Page(
        "template frame",
        "/console/templates/frame?store={store}&key=abandoned_checkout/reminder"
        "&locale=zh-CN&case={case}",
        "SELECT * FROM cases WHERE id = :case",
    ),
    Page(
        "templates",
        "/console/templates?store={store}",
        "SELECT * FROM templates WHERE store_id = :store",
    ),
    Page(
        "experiments",
        "/console/experiments?store={store}",
        "SELECT * FROM experiments WHERE store_id = :store",
    ),
    Page(
        "coupons",
        "/console/coupons?store={store}",
        "SELECT * FROM coupons WHERE store_id = :store ORDER BY id LIMIT 50",
    ),
    Page(
        "suppressions",
        "/console/suppressions?store={store}",
        "SELECT * FROM suppressions WHERE store_id = :store ORDER BY id LIMIT 50",
    ),
    Page(
        "stock",
        "/console/stock?store={store}",
        "SELECT * FROM stock_levels WHERE store_id = :store LIMIT 50",
    ),
    Page(
        "logistics",
        "/console/logistics?store={store}",
        "SELECT * FROM shipments WHERE store_id = :store AND status <> 'delivered'"
        " ORDER BY id LIMIT 50",
    ),
    Page(
        "inbox",
        "/console/inbox?store={store}",
        "SELECT id, topic, status FROM inbox WHERE store_id = :store AND status = 'dead'"
        " ORDER BY id DESC LIMIT 50",
    ),
    Page(
        "alerts",
        "/console/alerts?store={store}",
        "SELECT * FROM alerts WHERE store_id = :store ORDER BY id DESC LIMIT 50",
    ),
    Page(
        "reports",
        "/console/reports?store={store}&" + MONTH,
        "SELECT count(*), sum(value) FROM cases WHERE store_id = :store"
        " AND created_at >= :month_from AND created_at < :month_to",
    ),
    Page(
        "settings",
        "/console/settings?store={store}",
        "SELECT * FROM stores",
        admin=True,
    ),
    Page(
        "audit",
        "/console/audit?store={store}",
        "SELECT * FROM audit_log WHERE store_id = :store ORDER BY id DESC LIMIT 50",
        admin=True,
    ),
)
