"""Every change made through the CLI or the API is in the audit log (SPEC S13, issue 16).

Each command of ``reclaim`` and each API route that takes a body is named here as a change
(with the action its entry carries), a read, or a thing the log leaves out by design (with
the reason): a new command or route that is none of them fails the first tests. Then each
change is made, through the real command or route, and its entry looked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from click.testing import CliRunner
from fastapi.routing import APIRoute
from sqlalchemy import select

from helpers import checkout_event, client, make_store, post_events
from reclaim.adapters.db.tables import audit_log
from reclaim.bootstrap import Runtime
from reclaim.domain.events import Contact
from reclaim.domain.facts import Checkout
from reclaim.entrypoints.api import create_app
from reclaim.entrypoints.cli import main
from reclaim.services import stores as store_service
from reclaim.services.detection import detect_due
from reclaim.services.ingest import process_inbox
from reclaim.sim.mailbox import Mailbox

# command -> the action of its entry
CLI_CHANGES = {
    "store add": "store.add",
    "store set": "store.set",
    "store key add": "key.add",
    "store key rotate": "key.rotate",
    "store key revoke": "key.revoke",
    "flows set": "flow.set",
    "templates set": "template.set",
    "templates reset": "template.reset",
    "suppressions add": "suppression.add",
    "suppressions remove": "suppression.remove",
    "suppressions import": "suppression.import",
    "inbox replay": "inbox.replay",
    "warehouse import": "warehouses.import",
    "stock import": "stock.update",
    "lanes import": "lanes.import",
    "products import": "products.import",
    "experiment start": "experiment.start",
    "experiment stop": "experiment.stop",
    "customer export": "customer.export",
    "customer erase": "customer.erase",
    "prune": "data.prune",
    "report send": "report.send",
    "user add": "user.add",
    "user set": "user.set",
    # needs a platform that takes coupons: proven by tests/integration/test_coupon_push.py::
    # test_without_a_connector_an_importing_store_gets_its_coupon_mailed_and_left_to_export
    "coupons push": "coupons.push",
}
PROVEN_ELSEWHERE = {"coupons push"}
CLI_READS = {
    "audit list",
    "coupons export",
    "experiment status",
    "flows default",
    "flows list",
    "inbox failed",
    "inbox list",
    "inbox stats",
    "stock show",
    "store alerts",
    "store key list",
    "store list",
    "suppressions check",
    "templates list",
    "templates preview",
    "user list",
}
CLI_LEFT_OUT = {
    "init": "creates or migrates the schema: no store's set-up or data",
    "serve": "runs the API, whose routes are below",
    "worker": "the worker's own work",
    "holds sweep": "the worker's own work, run by hand",
    "templates send-test": "sends one test email to the operator: changes nothing",
    "demo": "the simulator's own database",
    "sim": "the simulator's own database",
}

# "METHOD path" -> the action of its entry
API_CHANGES = {
    "POST /api/v1/cases/{case_id}/stop": "case.stop",
    "POST /api/v1/suppressions": "suppression.add",
    "POST /api/v1/suppressions/remove": "suppression.remove",
    "POST /api/v1/feedback": "feedback.complaint",
    "POST /api/v1/holds": "hold.place",
    "POST /api/v1/orders/{order_id}/hold": "hold.extend",
    "POST /api/v1/warehouses": "warehouses.import",
    "POST /api/v1/stock": "stock.update",
    "POST /api/v1/products": "products.import",
    "POST /api/v1/experiments": "experiment.start",
    "POST /api/v1/experiments/{experiment_id}/stop": "experiment.stop",
    "POST /api/v1/customers/export": "customer.export",
    "POST /api/v1/customers/erase": "customer.erase",
}
API_LEFT_OUT = {
    "POST /api/v1/events": "deliveries coming in: the inbox keeps them",
    "POST /webhooks/{platform}/{store_id}": "deliveries coming in: the inbox keeps them",
    "POST /api/v1/suppressions/check": "a read",
    "POST /u/{token}": "a customer's unsubscribe: the suppression row records it",
    "POST /a/{token}": "a customer's answer: the case's reason row records it",
}


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[str]:
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield " ".join((*path, name))


def _api_changes(rt: Runtime) -> set[str]:
    app = create_app(rt)
    found = set()
    for route in app.routes:
        if not isinstance(route, APIRoute) or route.path.startswith("/console"):
            continue  # the console's pages: their own tests (test_console_audit.py)
        for method in route.methods - {"GET", "HEAD"}:
            found.add(f"{method} {route.path}")
    return found


def test_every_command_is_a_change_a_read_or_left_out_for_a_reason() -> None:
    named = set(CLI_CHANGES) | CLI_READS | set(CLI_LEFT_OUT)
    assert set(_commands(main)) == named
    assert not (set(CLI_CHANGES) & CLI_READS) and not (CLI_READS & set(CLI_LEFT_OUT))


def test_every_api_route_with_a_body_is_a_change_or_left_out_for_a_reason(rt: Runtime) -> None:
    assert _api_changes(rt) == set(API_CHANGES) | set(API_LEFT_OUT)


def _actions(rt: Runtime) -> list[tuple[str, str]]:
    with rt.engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.action, audit_log.c.actor).order_by(audit_log.c.id))
        return [(a, who) for a, who in rows]


def _files(tmp: Path) -> dict[str, str]:
    texts = {
        "flow.yaml": None,  # the default flow, printed by `reclaim flows default`
        "t.html": "<html><body><p>{{ store.postal_address }}</p>"
        '<p><a href="{{ unsubscribe_url }}">Stop</a></p></body></html>',
        "t.txt": "{{ restore_url }}\n{{ store.postal_address }}\n{{ unsubscribe_url }}",
        "list.txt": "b@example.com\nc@example.com\n",
        "warehouses.csv": "code,country,timezone,cutoff\nBER,DE,Europe/Berlin,15:30\n",
        "stock.csv": "warehouse,sku,on_hand\nBER,LAMP,7\n",
        "lanes.csv": "origin,destination_country,destination_region,carrier,service,"
        "transit_min,transit_max,cost_bands,currency,co2_per_kg\n"
        "BER,FR,,DHL,standard,2,4,0.5:4.90;2:7.90,EUR,0.21\n",
        "products.csv": "sku,weight_kg,name\nLAMP,1.2,Lamp\n",
    }
    paths = {}
    for name, text in texts.items():
        path = tmp / name
        if text is not None:
            path.write_text(text)
        paths[name] = str(path)
    return paths


def _checkout(store_id: str, at: datetime) -> Checkout:
    return Checkout(
        store_id=store_id,
        external_id="co-1",
        customer_key="zoe@example.com",
        email="zoe@example.com",
        phone=None,
        contact=Contact(email="zoe@example.com"),
        currency="EUR",
        total=Decimal("30.00"),
        items=(),
        created_at=at,
        updated_at=at,
        version_tag="v1",
        state="completed",
    )


def test_each_cli_change_writes_its_entry(sqlite_rt: Runtime, tmp_path: Path) -> None:
    rt = sqlite_rt
    store = make_store(rt, platform="custom", report_emails=("owner@shop.example",))
    with rt.uow() as uow:  # a dead letter to replay
        uow.inbox.add(
            store_id=store.id,
            source="custom",
            topic="checkout.updated",
            event_id="ev-1",
            digest="d".ljust(64, "0"),
            headers={},
            body=b"{}",
            received_at=rt.clock(),
            status="failed",
            error="bad",
        )
        uow.facts.add(_checkout(store.id, rt.clock()))  # something to report on
        uow.commit()
    month, later = rt.clock().strftime("%Y-%m"), (rt.clock() + timedelta(days=40)).isoformat()
    key = store_service.add_key(uow=rt.uow(), store_id=store.id, scopes=None, now=rt.clock())
    f = _files(tmp_path)
    s = store.id
    steps: list[tuple[str, list[str], str]] = [
        ("store add", ["store", "add", "--name", "New", "--platform", "custom", "--currency",
                       "EUR", "--timezone", "Europe/Paris", "--domain", "n.example"], ""),
        ("store set", ["store", "set", s, "--keep-orders", "400"], ""),
        ("store key add", ["store", "key", "add", s], ""),
        ("store key rotate", ["store", "key", "rotate", key.api_key], ""),
        ("store key revoke", ["store", "key", "revoke", store.api_key], ""),
        ("flows set", ["flows", "set", "--store", s, f["flow.yaml"]], ""),
        ("templates set", ["templates", "set", "--store", s, "--key",
                           "abandoned_checkout/reminder", "--locale", "en", "--subject", "Cart",
                           "--html", f["t.html"], "--text", f["t.txt"]], ""),
        ("templates reset", ["templates", "reset", "--store", s, "--key",
                             "abandoned_checkout/reminder", "--locale", "en"], ""),
        ("suppressions add", ["suppressions", "add", "--store", s, "ana@example.com"], ""),
        ("suppressions import", ["suppressions", "import", "--store", s, f["list.txt"]], ""),
        ("suppressions remove", ["suppressions", "remove", "--store", s, "b@example.com"], ""),
        ("inbox replay", ["inbox", "replay", "--store", s], ""),
        ("warehouse import", ["warehouse", "import", "--store", s, f["warehouses.csv"]], ""),
        ("stock import", ["stock", "import", "--store", s, f["stock.csv"]], ""),
        ("lanes import", ["lanes", "import", "--store", s, f["lanes.csv"]], ""),
        ("products import", ["products", "import", "--store", s, f["products.csv"]], ""),
        ("experiment start", ["experiment", "start", "--store", s, "--kind",
                              "abandoned_checkout", "--name", "offer", "--step", "incentive",
                              "--variant", "A", "--variant", "B=incentive=none"], ""),
        ("experiment stop", ["experiment", "stop", "--store", s, "--name", "offer"], ""),
        ("customer export", ["customer", "export", "--store", s, "--email", "ana@example.com",
                             "--out", str(tmp_path / "ana.json")], ""),
        ("customer erase", ["customer", "erase", "--store", s, "--email", "ana@example.com",
                            "--yes"], ""),
        ("prune", ["prune", "--store", s], ""),
        ("report send", ["report", "send", "--store", s, "--period", month,
                          "--now", later], ""),
        ("user add", ["user", "add", "op@shop.example", "--role", "admin",
                      "--password-stdin"], "a long enough password 123\n"),
        ("user set", ["user", "set", "op@shop.example", "--name", "Op"], ""),
    ]  # fmt: skip
    assert {name for name, _, _ in steps} == set(CLI_CHANGES) - PROVEN_ELSEWHERE
    with Mailbox() as box:
        env = {"RECLAIM_DATABASE_URL": rt.settings.database_url, "RECLAIM_SMTP_URL": box.url}
        printed = CliRunner().invoke(main, ["flows", "default", "abandoned_checkout"], env=env)
        Path(f["flow.yaml"]).write_text(printed.output)
        for name, args, given in steps:
            before = len(_actions(rt))
            done = CliRunner().invoke(main, args, env=env, input=given or None)
            assert done.exit_code == 0, (name, done.output)
            new = _actions(rt)[before:]
            assert any(a == CLI_CHANGES[name] and who.startswith("cli:") for a, who in new), (
                name,
                new,
            )
        assert len(box.take()) == 1  # the report went


def test_each_api_change_writes_its_entry(rt: Runtime, clock: Any) -> None:
    store = make_store(rt, platform="custom")
    admin = store_service.add_key(
        uow=rt.uow(),
        store_id=store.id,
        scopes=["events:write", "cases:read", "cases:write", "admin"],
        now=clock.now,
    ).api_key
    c = client(rt)
    auth = {"Authorization": f"Bearer {admin}"}
    prefix = admin.split("_")[1]

    events = [checkout_event(clock.now, email="ana@example.com", accepts_marketing=True)]
    assert post_events(c, admin, events).status_code == 202
    process_inbox(uow=rt.uow(), connectors=rt.connectors, now=clock.now)
    detect_due(uow=rt.uow(), now=clock.advance(minutes=45), flows=rt.flow_defaults)
    [case] = c.get("/api/v1/cases", headers=auth).json()["cases"]
    ana = {"email": "ana@example.com"}
    calls: list[tuple[str, str, Any]] = [
        ("POST /api/v1/cases/{case_id}/stop", f"/api/v1/cases/{case['id']}/stop", None),
        ("POST /api/v1/suppressions", "/api/v1/suppressions", {"address": "b@example.com"}),
        ("POST /api/v1/suppressions/remove", "/api/v1/suppressions/remove",
         {"address": "b@example.com"}),
        ("POST /api/v1/feedback", "/api/v1/feedback",
         {"type": "complaint", "email": "c@example.com"}),
        ("POST /api/v1/warehouses", "/api/v1/warehouses",
         {"warehouses": [{"code": "BER", "country": "DE", "timezone": "Europe/Berlin"}]}),
        ("POST /api/v1/stock", "/api/v1/stock",
         {"levels": [{"warehouse": "BER", "sku": "LAMP", "on_hand": 5}]}),
        ("POST /api/v1/products", "/api/v1/products", {"products": [{"sku": "LAMP",
                                                                     "weight_kg": "1.2"}]}),
        ("POST /api/v1/holds", "/api/v1/holds",
         {"order_id": "o-1", "items": [{"sku": "LAMP", "quantity": 1}]}),
        ("POST /api/v1/orders/{order_id}/hold", "/api/v1/orders/o-1/hold",
         {"until": (clock.now + timedelta(days=6)).isoformat()}),
        ("POST /api/v1/experiments", "/api/v1/experiments",
         {"kind": "abandoned_checkout", "name": "offer", "step": "incentive",
          "variants": [{"key": "A"}, {"key": "B", "overrides": {"incentive": None}}]}),
        ("POST /api/v1/experiments/{experiment_id}/stop", None, None),
        ("POST /api/v1/customers/export", "/api/v1/customers/export", ana),
        ("POST /api/v1/customers/erase", "/api/v1/customers/erase", ana),
    ]  # fmt: skip
    assert {name for name, _, _ in calls} == set(API_CHANGES)
    started: list[int] = []  # the experiment's id, once it is made
    for name, given, body in calls:
        path = given or f"/api/v1/experiments/{started[0]}/stop"
        before = len(_actions(rt))
        answer = c.post(path, json=body, headers=auth)
        assert answer.status_code < 300, (name, answer.status_code, answer.text)
        if name == "POST /api/v1/experiments":
            started.append(answer.json()["id"])
        new = _actions(rt)[before:]
        assert (API_CHANGES[name], f"api:{prefix}") in new, (name, new)
