"""Builders shared by the integration and end-to-end tests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient

from reclaim.adapters.flows import default_flow
from reclaim.bootstrap import Runtime
from reclaim.domain.flows import flow_to_data
from reclaim.domain.steps import Coupon
from reclaim.domain.stores import Store, StoreSettings
from reclaim.entrypoints.api import create_app
from reclaim.services.flows import set_flow
from reclaim.services.stores import NewStore, add_store

SECRET = "whsec_test_secret_123"
MONDAY = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)  # 10:00 in Berlin: no quiet hours anywhere near


STORE_ADDRESS = "Boutique SAS, 1 rue de Rivoli, 75001 Paris"


def make_store(
    rt: Runtime,
    name: str = "Boutique",
    platform: str = "shopify",
    *,
    holdout: float = 0.0,
    **settings: Any,
) -> NewStore:
    """A store created a day ago. Its flows are the defaults with ``holdout`` (0 by default,
    so a test's cases are never held out by the luck of a random store id)."""
    created = rt.clock() - timedelta(days=1)
    # The law's sender duties (a postal address on marketing email): pass "" to test without.
    settings.setdefault("postal_address", STORE_ADDRESS)
    store = add_store(
        uow=rt.uow(),
        name=name,
        platform=platform,
        currency="EUR",
        timezone="Europe/Paris",
        domain="shop.example",
        webhook_secret=SECRET,
        settings=StoreSettings(**settings),
        now=created,
    )
    for kind in ("abandoned_checkout", "pending_order", "failed_payment"):
        flow = replace(default_flow(kind), holdout=holdout)
        source = yaml.safe_dump(flow_to_data(flow), sort_keys=False)
        set_flow(uow=rt.uow(), store_id=store.id, source=source, flow=flow, now=created)
    return store


def client(rt: Runtime) -> TestClient:
    return TestClient(create_app(rt), raise_server_exceptions=True)


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def event(kind: str, at: datetime, event_id: str | None = None, **data: Any) -> dict[str, Any]:
    e: dict[str, Any] = {"type": kind, "occurred_at": iso(at), "data": data}
    if event_id:
        e["id"] = event_id
    return e


def checkout_event(
    at: datetime, checkout_id: str = "c1", email: str = "ana@example.com", **kw: Any
) -> dict[str, Any]:
    data = {
        "checkout_id": checkout_id,
        "email": email,
        "first_name": "Ana",
        "locale": "de-DE",
        "country": "DE",
        "currency": "EUR",
        "total": "1234.56",
        "items": [{"sku": "MUG-1", "name": "Mug", "quantity": 2, "price": "617.28"}],
        "recovery_url": "https://shop.example/checkouts/c1/recover",
    }
    data.update(kw)
    return event("checkout.updated", at, **data)


def order_event(
    kind: str, at: datetime, order_id: str = "o1", email: str = "ana@example.com", **kw: Any
) -> dict[str, Any]:
    data = {
        "order_id": order_id,
        "email": email,
        "currency": "EUR",
        "total": "1234.56",
        "items": [{"sku": "MUG-1", "name": "Mug", "quantity": 2, "price": "617.28"}],
        "country": "DE",
    }
    data.update(kw)
    return event(kind, at, **data)


def post_events(c: TestClient, key: str, body: Any) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return c.post("/api/v1/events", content=raw, headers={"Authorization": f"Bearer {key}"})


def shopify_headers(
    body: bytes, topic: str, webhook_id: str, secret: str = SECRET
) -> dict[str, str]:
    mac = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": mac,
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Shop-Domain": "shop.example",
        "Content-Type": "application/json",
    }


def woo_headers(body: bytes, topic: str, secret: str = SECRET) -> dict[str, str]:
    mac = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Signature": mac,
        "Content-Type": "application/json",
    }


def stripe_headers(body: bytes, at: datetime, secret: str = SECRET) -> dict[str, str]:
    t = int(at.timestamp())
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={t},v1={mac}", "Content-Type": "application/json"}


def store_with(platform: str, **settings: Any) -> Store:
    """A store not in any database (``st_1``, EUR, Paris) with these settings."""
    return Store(
        id="st_1",
        name="Shop",
        platform=platform,
        currency="EUR",
        timezone="Europe/Paris",
        domain="shop.example",
        webhook_secret="whsec_1",
        activated_at=MONDAY,
        settings_json=StoreSettings(**settings).to_json(),
    )


def store_object(platform: str, api_url: str, token: str) -> Store:
    """A store for calls to its platform."""
    return store_with(platform, platform_api_url=api_url, platform_api_token=token)


def coupon_object(**changes: Any) -> Coupon:
    """A 10 % coupon of ``st_1``'s case 1, issued at MONDAY for 48 h; ``changes`` replace."""
    made = Coupon(
        store_id="st_1",
        case_id=1,
        code="7KQ3-MX9T-PA",
        kind="percent",
        value=Decimal(10),
        currency="EUR",
        expires_at=MONDAY + timedelta(hours=48),
        created_at=MONDAY,
    )
    return replace(made, **changes)


def run_cli(
    args: list[str], env: dict[str, str], *, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    """``reclaim ARGS`` in a subprocess; with ``ok`` it must exit 0."""
    p = subprocess.run(
        [sys.executable, "-m", "reclaim", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if ok:
        assert p.returncode == 0, p.stdout + p.stderr
    return p


def cli_env(database: Path, **more: str) -> dict[str, str]:
    """The environment of a CLI test: none of the caller's RECLAIM_* settings, a SQLite
    database at ``database``, no reclaim.toml, and ``more``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECLAIM_")}
    env["RECLAIM_DATABASE_URL"] = f"sqlite:///{database}"
    env["RECLAIM_CONFIG"] = str(database.parent / "absent.toml")
    env.update(more)
    return env
