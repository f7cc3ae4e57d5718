"""Reclaim's cases as a simulation run reads them: through Reclaim's own cases API, as any
client would, one :class:`ActualCase` per case of every demo store.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from reclaim.sim.driver import DemoStore

KINDS = ("abandoned_checkout", "pending_order", "failed_payment")
STATUSES = ("open", "recovered", "cancelled", "lost", "suppressed", "expired")


@dataclass(frozen=True, slots=True)
class ActualCase:
    store: str
    id: int
    kind: str
    subject: str
    status: str
    customer: str | None
    currency: str
    recovered_value: Decimal | None
    recovered_order: str | None
    close_reason: str | None
    holdout: bool = False
    attribution: str | None = None
    flow_state: str | None = None
    # the case API's why_not_sent: None once a message went
    why_code: str | None = None
    why_outcome: str | None = None


def fetch_cases(client: httpx.Client, stores: dict[str, DemoStore]) -> list[ActualCase]:
    """Every case of every demo store, through ``GET /api/v1/cases``."""
    out: list[ActualCase] = []
    for key, store in sorted(stores.items()):
        cursor: int | None = None
        while True:
            params: dict[str, Any] = {"limit": 500}
            if cursor is not None:
                params["cursor"] = cursor
            r = client.get(
                "/api/v1/cases", params=params, headers={"Authorization": f"Bearer {store.api_key}"}
            )
            r.raise_for_status()
            page = r.json()
            for c in page["cases"]:
                subject = {
                    "abandoned_checkout": c["checkout_id"],
                    "pending_order": c["order_id"],
                    "failed_payment": c["payment_intent_id"],
                }[c["kind"]]
                value = c["recovered_value"]
                why = c.get("why_not_sent") or {}
                out.append(
                    ActualCase(
                        store=key,
                        id=c["id"],
                        kind=c["kind"],
                        subject=subject or "",
                        status=c["status"],
                        customer=(c["email"] or c["phone"] or None),
                        currency=c["currency"],
                        recovered_value=Decimal(value) if value is not None else None,
                        recovered_order=c["recovered_order_id"],
                        close_reason=c["close_reason"],
                        holdout=bool(c["holdout"]),
                        attribution=c["attribution"],
                        flow_state=c["flow_state"],
                        why_code=why.get("code"),
                        why_outcome=why.get("outcome"),
                    )
                )
            cursor = page["next_cursor"]
            if cursor is None:
                break
    return out
