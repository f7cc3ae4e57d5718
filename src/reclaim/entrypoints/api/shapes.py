"""How the HTTP API writes domain objects as JSON: instants, cases, holds, and why a case has
had no message. :mod:`reclaim.entrypoints.api.answers` documents the shapes."""

from datetime import datetime
from typing import Any

from reclaim.domain.cases import Case
from reclaim.domain.holds import Hold
from reclaim.domain.money import amount_text
from reclaim.domain.outcomes import NotSent


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def case_json(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "kind": case.kind,
        "status": case.status,
        "value": amount_text(case.value, case.currency),
        "currency": case.currency,
        "email": case.email,
        "phone": case.phone,
        "first_name": case.contact.first_name,
        "reason": case.reason,
        "reason_code": case.reason_code,
        "customer_locale": case.customer_locale,
        "customer_timezone": case.customer_timezone,
        "country": case.contact.country,
        "created_at": iso(case.created_at),
        "occurred_at": iso(case.occurred_at),
        "closed_at": iso(case.closed_at),
        "close_reason": case.close_reason,
        "checkout_id": case.checkout_external_id,
        "order_id": case.order_external_id,
        "payment_intent_id": case.intent_id,
        "recovery_url": case.recovery_url,
        "recovered_order_id": case.recovered_order_external_id,
        "recovered_value": amount_text(case.recovered_value, case.currency),
        "attribution": case.attribution,
        "merged_from": case.merged_from,
        "flow_state": case.flow_state,
        "flow_stop_reason": case.flow_stop_reason,
        "holdout": case.holdout,
        "next_step_at": iso(case.next_step_at),
        "attributed_message_id": case.attributed_message_id,
        "items": [
            {
                "name": i.name,
                "quantity": i.quantity,
                "price": amount_text(i.unit_price, case.currency),
                "sku": i.sku,
                "product_id": i.product_id,
                "variant_id": i.variant_id,
                "image_url": i.image_url,
            }
            for i in case.items
        ],
    }


def not_sent_json(why: NotSent | None) -> dict[str, object] | None:
    """Why a case has had no message: {code, text, outcome, step, until}; null once sent."""
    return None if why is None else why.to_json()


def hold_json(hold: Hold) -> dict[str, Any]:
    return {
        "order_id": hold.order_external_id,
        "status": hold.status,
        "created_at": iso(hold.created_at),
        "expires_at": iso(hold.expires_at),
        "lines": hold.lines,
        "short": hold.short,
    }
