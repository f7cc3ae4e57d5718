"""The benchmark's store and its rows, made by the database itself (``INSERT … SELECT`` over
a series of integers): every column a deterministic function of the row's number, so both
databases hold the same data and a run seeds in seconds, not minutes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from reclaim.bootstrap import Runtime
from reclaim.domain.stores import StoreSettings
from reclaim.services.stores import add_store

DB_NAME = "reclaim_bench_reports"
MONTH = "2026-11"  # the month reported: the last of the ten seeded
BEGIN = "2026-02-01 00:00:00"  # the first case (UTC); the last just before 2026-12-01
SPAN_S = 303 * 86400  # February to November
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # the report is made "today"
OBJ, LIST = "'{}'", "'[]'"  # empty JSON
CHANNELS = ["'email'"] * 4 + ["'sms'"]
TABLES = (
    "cases", "case_events", "case_reasons", "messages", "coupons",
    "checkouts", "orders", "shipments",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Sizes:
    cases: int

    @property
    def events(self) -> int:
        return 5 * self.cases

    @property
    def checkouts(self) -> int:
        return self.cases

    @property
    def orders(self) -> int:
        return self.cases * 4 // 10


class _Sql:
    """The few things the two dialects spell differently."""

    def __init__(self, postgres: bool) -> None:
        self.pg = postgres

    def rows(self, n: int) -> tuple[str, str]:
        """(what goes before SELECT, the FROM) of the integers ``i`` = 1 … ``n``."""
        if self.pg:
            return "", f"generate_series(1::bigint, {n}) AS s(i)"
        return (
            f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) ",
            "s",
        )

    def at(self, seconds: str) -> str:
        """``BEGIN`` + ``seconds``, as each dialect stores a ``UTCDateTime``."""
        if self.pg:
            return f"(TIMESTAMPTZ '{BEGIN}+00' + ({seconds}) * INTERVAL '1 second')"
        return f"(datetime('{BEGIN}', '+' || ({seconds}) || ' seconds') || '.000000')"

    def json(self, text: str) -> str:
        return f"({text})::json" if self.pg else text


def _pick(expr: str, values: list[str]) -> str:
    """One of ``values`` (SQL literals) by ``expr`` modulo their count."""
    arms = " ".join(f"WHEN {k} THEN {v}" for k, v in enumerate(values))
    return f"(CASE ({expr}) % {len(values)} {arms} END)"


def _statements(q: _Sql, n: Sizes, store: str) -> list[str]:
    cases = n.cases
    head, src = q.rows(cases)
    created = f"((i - 1) * {SPAN_S} / {cases})"  # seconds after BEGIN: ids follow time
    kind = (
        "(CASE WHEN i % 10 < 7 THEN 'abandoned_checkout' WHEN i % 10 < 9 THEN 'pending_order'"
        " ELSE 'failed_payment' END)"
    )
    holdout = "((i * 31) % 10 = 0)"
    no_flow = f"(NOT {holdout} AND (i * 17) % 50 = 0)"
    recovered = f"((i * 13) % 100 < CASE WHEN {holdout} THEN 10 ELSE 18 END)"
    attributed = f"({recovered} AND NOT {holdout} AND NOT {no_flow} AND i % 10 < 7)"
    messaged = f"(NOT {holdout} AND NOT {no_flow})"
    value = "(((i * 7) % 200 + 20) * 10000)"
    currency = "(CASE WHEN i % 100 < 90 THEN 'EUR' WHEN i % 100 < 97 THEN 'USD' ELSE 'GBP' END)"
    countries = ["'DE'", "'FR'", "'NL'", "'ES'", "'IT'", "'GB'", "'US'", "'PL'"]
    devices = ["'mobile'", "'mobile'", "'desktop'", "'tablet'", "'mobile'"]
    status = (
        f"(CASE WHEN {recovered} THEN 'recovered' WHEN i % 7 = 0 THEN 'open' "
        "WHEN i % 7 < 4 THEN 'lost' ELSE 'expired' END)"
    )
    out = [
        f"INSERT INTO cases (id, store_id, kind, subject_id, customer_key, email, contact, value,"
        f" currency, items, reason, occurred_at, created_at, status, closed_at,"
        f" recovered_order_external_id, recovered_value, attribution, merged_from, flow_id,"
        f" flow_state, holdout, attributed_message_id, country, device) {head}"
        f"SELECT i, '{store}', {kind}, 's' || i, 'k' || (i % {max(cases * 7 // 10, 1)}),"
        f" 'c' || i || '@example.com', {q.json(OBJ)}, {value}, {currency},"
        f" {q.json(LIST)}, {kind}, {q.at(created)}, {q.at(created)},"
        f" {status}, CASE WHEN {recovered} THEN {q.at(created + ' + 3600 * (1 + i % 72)')} END,"
        f" CASE WHEN {recovered} THEN 'r' || i END, CASE WHEN {recovered} THEN {value} END,"
        f" CASE WHEN {attributed} THEN 'message' WHEN {recovered} THEN 'organic' END,"
        f" {q.json(LIST)}, CASE WHEN {no_flow} THEN NULL ELSE 1 END,"
        f" CASE WHEN {holdout} THEN 'holdout' WHEN {no_flow} THEN 'none' ELSE 'finished' END,"
        f" {holdout}, CASE WHEN {attributed} THEN 2 * i - 1 END,"
        f" {_pick('i * 3', countries)}, {_pick('i', devices)} FROM {src}",
    ]
    e_head, e_src = q.rows(n.events)
    types = ["'opened'", "'flow_started'", "'step_scheduled'", "'message_sent'", "'closed'"]
    c = "((i - 1) / 5 + 1)"
    out.append(
        f"INSERT INTO case_events (case_id, at, type, data) {e_head}"
        f"SELECT {c}, {q.at(f'({c} - 1) * {SPAN_S} / {cases} + 1800 * (i % 5)')},"
        f" {_pick('i', types)}, {q.json(OBJ)} FROM {e_src}"
    )
    inferred = ["'extra_costs'", "'delivery_too_slow'", "'stock_unclear'", "'price_changed'",
                "'payment_declined'", "'payment_methods'", "'coupon_rejected'"]  # fmt: skip
    answers = ["'extra_costs'", "'account_required'", "'trust'", "'just_browsing'", "'other'"]
    for which, reasons, source in (
        ("TRUE", inferred, "inferred"),
        ("i % 2 = 0", [inferred[(k + 3) % 7] for k in range(7)], "inferred"),
        ("i % 100 < 3", answers, "customer"),
    ):
        out.append(
            f"INSERT INTO case_reasons (case_id, store_id, reason, source, at) {head}"
            f"SELECT i, '{store}', {_pick('i', reasons)}, '{source}', {q.at(created)} FROM {src}"
            f" WHERE {which}"
        )
    for k, which in ((1, "TRUE"), (2, "i % 3 <> 0")):
        out.append(
            "INSERT INTO messages (id, store_id, case_id, step_id, customer_key, channel,"
            " purpose, template, locale, recipient, status, attempts, created_at, sent_at,"
            f" opens, clicks) {head}SELECT 2 * i - {2 - k}, '{store}', i, 2 * i - {2 - k},"
            f" 'k' || i, {_pick('i', CHANNELS)},"
            f" 'recovery', 'cart_{k}', 'en', 'c' || i || '@example.com', 'sent', 1,"
            f" {q.at(f'{created} + {k} * 3600')}, {q.at(f'{created} + {k} * 3600')},"
            f" i % 2, i % 5 / 4 FROM {src} WHERE {messaged} AND {which}"
        )
    out.append(
        "INSERT INTO coupons (store_id, case_id, code, kind, value, discount, currency,"
        f" expires_at, created_at, redeemed_at, redeemed_order_external_id) {head}"
        f"SELECT '{store}', i, 'C' || i, 'percent', 100000,"
        f" CASE WHEN {recovered} THEN {value} / 10 END, {currency},"
        f" {q.at(f'{created} + 7 * 86400')}, {q.at(created)},"
        f" CASE WHEN {recovered} THEN {q.at(f'{created} + 7200')} END,"
        f" CASE WHEN {recovered} THEN 'r' || i END FROM {src} WHERE {messaged} AND i % 20 = 1"
    )
    k_head, k_src = q.rows(n.checkouts)
    at = f"((i - 1) * {SPAN_S} / {n.checkouts})"
    agents = ["'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148'",
              "'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0'",
              "'Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari/537.36'",
              "'Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)'"]  # fmt: skip
    contact = '\'{"country": "\' || ' + _pick("i * 3", countries) + " || '\"}'"
    out.append(
        "INSERT INTO checkouts (store_id, external_id, customer_key, contact, currency, total,"
        " items, created_at, updated_at, version_tag, state, user_agent, is_test) "
        f"{k_head}SELECT '{store}', 'ck' || i, CASE WHEN i % 10 < 6 THEN 'k' || i END,"
        f" {q.json(contact)}, 'EUR', {value}, {q.json(LIST)},"
        f" {q.at(at)}, {q.at(at)}, 'v1', CASE WHEN i % 10 < 3 THEN 'completed' ELSE"
        f" 'abandoned' END, {_pick('i', agents)}, (i % 500 = 0) FROM {k_src}"
    )
    o_head, o_src = q.rows(n.orders)
    at = f"((i - 1) * {SPAN_S} / {n.orders})"
    paid = "(i % 100 < 85)"
    out.append(
        "INSERT INTO orders (store_id, external_id, customer_key, contact, currency, total,"
        " items, created_at, updated_at, version_tag, financial_status, paid_at, user_agent,"
        f" is_test, watch, discount_codes) {o_head}SELECT '{store}', 'r' || i, 'k' || i,"
        f" {q.json(contact)}, 'EUR', {value}, {q.json(LIST)}, {q.at(at)},"
        f" {q.at(at)}, 'v1', CASE WHEN i % 100 = 1 THEN 'refunded' WHEN {paid} THEN 'paid'"
        f" ELSE 'pending' END, CASE WHEN {paid} THEN {q.at(at + ' + 600')} END,"
        f" {_pick('i', agents)}, (i % 500 = 0), 'none', {q.json(LIST)}"
        f" FROM {o_src}"
    )
    out.append(
        "INSERT INTO shipments (store_id, external_id, order_external_id, status,"
        f" first_event_at, last_event_at, version_tag, delivered_at) {o_head}"
        f"SELECT '{store}', 'sh' || i, 'r' || i, CASE WHEN i % 10 < 9 THEN 'delivered' ELSE"
        f" 'in_transit' END, {q.at(at + ' + 86400')}, {q.at(at + ' + 4 * 86400')}, 'v1',"
        f" CASE WHEN i % 10 < 9 THEN {q.at(at + ' + 4 * 86400')} END FROM {o_src}"
        f" WHERE {paid} AND i % 20 < 15"
    )
    return out


def seed(rt: Runtime, sizes: Sizes) -> str:
    """The store and all its rows (one transaction); the store's id."""
    store = add_store(
        uow=rt.uow(),
        name="Nordwolle",
        platform="custom",
        currency="EUR",
        timezone="Europe/Paris",
        domain="nordwolle.example",
        webhook_secret="whsec_bench_reports_7c2e",
        settings=StoreSettings(fx_rates={"USD": Decimal("0.92"), "GBP": Decimal("1.17")}),
        now=datetime(2026, 1, 15, tzinfo=UTC),
    )
    postgres = rt.engine.dialect.name == "postgresql"
    with rt.engine.begin() as conn:
        if not postgres:
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
        for sql in _statements(_Sql(postgres), sizes, store.id):
            conn.exec_driver_sql(sql.replace("%", "%%") if postgres else sql)
    return store.id


def counts(rt: Runtime) -> dict[str, int]:
    """Rows a table, as seeded."""
    with rt.engine.connect() as conn:
        return {
            t: int(conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar() or 0) for t in TABLES
        }
