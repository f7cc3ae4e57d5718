"""Shopify webhook deliveries: ``checkouts/update`` and ``orders/paid`` bodies, signed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.ingest.customers import (
    SECRET,
    SHOP,
    UA,
    Customer,
    checkout_token,
    customer,
    fmt_money,
    pick_items,
)


def shopify_time(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


def checkout_payload(
    *,
    token: str,
    number: int,
    cust: Customer,
    items: list[tuple[Any, ...]],
    created_at: datetime,
    updated_at: datetime,
) -> dict[str, Any]:
    """A ``checkouts/update`` body shaped like Shopify's (REST Checkout resource)."""
    country, province, city, currency, locale, _, _ = cust.market
    lines = []
    subtotal = 0
    for product_id, variant_id, title, variant, sku, price, grams, qty in items:
        subtotal += price * qty
        lines.append(
            {
                "key": f"{variant_id}:{token[:8]}",
                "fulfillment_service": "manual",
                "gift_card": False,
                "grams": grams,
                "presentment_title": title,
                "presentment_variant_title": variant,
                "product_id": product_id,
                "quantity": qty,
                "requires_shipping": True,
                "sku": sku,
                "taxable": True,
                "title": title,
                "variant_id": variant_id,
                "variant_title": variant,
                "variant_price": fmt_money(price, currency),
                "vendor": "Nordwolle",
                "line_price": fmt_money(price * qty, currency),
                "price": fmt_money(price, currency),
                "applied_discounts": [],
                "tax_lines": [
                    {
                        "price": fmt_money(price * qty * 19 // 119, currency),
                        "rate": 0.19,
                        "title": "VAT",
                    }
                ],
            }
        )
    shipping = 490 if currency != "JPY" else 2500
    address = {
        "first_name": cust.first,
        "last_name": cust.last,
        "address1": f"{10 + cust.index % 80} Main Street",
        "address2": None,
        "city": city,
        "province": province,
        "province_code": province,
        "country": country,
        "country_code": country,
        "zip": f"{10000 + cust.index % 89999}",
        "phone": cust.phone,
        "company": None,
        "name": f"{cust.first} {cust.last}",
    }
    return {
        "id": 35870274300000 + number,
        "token": token,
        "cart_token": base64.b64encode(token.encode()[:24]).decode(),
        "email": cust.email,
        "gateway": None,
        "buyer_accepts_marketing": cust.index % 3 == 0,
        "buyer_accepts_sms_marketing": False,
        "sms_marketing_phone": None,
        "created_at": shopify_time(created_at),
        "updated_at": shopify_time(updated_at),
        "completed_at": None,
        "closed_at": None,
        "landing_site": "/products/merino-pullover",
        "note": None,
        "note_attributes": [],
        "referring_site": "https://www.google.com/",
        "taxes_included": True,
        "total_weight": sum(i[6] * i[7] for i in items),
        "currency": currency,
        "presentment_currency": currency,
        "customer_locale": locale,
        "phone": None,
        "name": f"#{35870274300000 + number}",
        "source_name": "web",
        "source_identifier": None,
        "source_url": None,
        "device_id": None,
        "location_id": None,
        "user_id": None,
        "abandoned_checkout_url": (
            f"https://{SHOP}/71234567/checkouts/ac/{token}/recover?key={token[-16:]}"
        ),
        "client_details": {
            "accept_language": f"{locale},en;q=0.6",
            "browser_ip": f"93.184.{cust.index % 250}.{number % 250}",
            "user_agent": UA,
        },
        "discount_codes": [],
        "line_items": lines,
        "shipping_lines": [
            {
                "code": "Standard",
                "price": fmt_money(shipping, currency),
                "source": "shopify",
                "title": "Standard",
                "tax_lines": [],
            }
        ],
        "shipping_address": address,
        "billing_address": {k: v for k, v in address.items() if k not in ("company", "name")},
        "customer": {
            "id": cust.id,
            "email": cust.email,
            "accepts_marketing": cust.index % 3 == 0,
            "created_at": shopify_time(created_at - timedelta(days=200)),
            "updated_at": shopify_time(updated_at),
            "first_name": cust.first,
            "last_name": cust.last,
            "orders_count": cust.index % 4,
            "state": "enabled",
            "total_spent": fmt_money(subtotal * (cust.index % 4), currency),
            "verified_email": True,
            "tax_exempt": False,
            "tags": "",
            "currency": currency,
            "phone": None,
            "email_marketing_consent": {
                "state": "subscribed" if cust.index % 3 == 0 else "not_subscribed",
                "opt_in_level": "single_opt_in",
                "consent_updated_at": None,
            },
            "sms_marketing_consent": None,
        },
        "subtotal_price": fmt_money(subtotal, currency),
        "total_discounts": "0.00",
        "total_line_items_price": fmt_money(subtotal, currency),
        "total_price": fmt_money(subtotal + shipping, currency),
        "total_tax": fmt_money(subtotal * 19 // 119, currency),
        "total_duties": None,
    }


def order_payload(
    *,
    order_id: int,
    cust: Customer,
    items: list[tuple[Any, ...]],
    checkout: str | None,
    created_at: datetime,
    updated_at: datetime,
) -> dict[str, Any]:
    """An ``orders/paid`` body shaped like Shopify's (REST Order resource)."""
    country, province, city, currency, locale, _, _ = cust.market
    subtotal = sum(i[5] * i[7] for i in items)
    total = fmt_money(subtotal + 490, currency)
    money = {"amount": total, "currency_code": currency}
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "buyer_accepts_marketing": cust.index % 3 == 0,
        "cancelled_at": None,
        "checkout_token": checkout,
        "client_details": {"user_agent": UA},
        "contact_email": cust.email,
        "created_at": shopify_time(created_at),
        "currency": currency,
        "customer_locale": locale,
        "email": cust.email,
        "financial_status": "paid",
        "name": f"#{order_id % 100000}",
        "order_number": order_id % 100000,
        "order_status_url": f"https://{SHOP}/71234567/orders/{order_id:x}/authenticate?key=ab12",
        "payment_gateway_names": ["shopify_payments"],
        "phone": cust.phone,
        "presentment_currency": currency,
        "processed_at": shopify_time(created_at),
        "test": False,
        "total_price": total,
        "total_price_set": {"shop_money": money, "presentment_money": money},
        "updated_at": shopify_time(updated_at),
        "billing_address": {
            "first_name": cust.first,
            "last_name": cust.last,
            "city": city,
            "province_code": province,
            "country_code": country,
        },
        "shipping_address": None,
        "customer": {
            "id": cust.id,
            "email": cust.email,
            "first_name": cust.first,
            "last_name": cust.last,
            "orders_count": 1 + cust.index % 4,
            "phone": None,
        },
        "line_items": [
            {
                "id": order_id * 10 + n,
                "title": p[2],
                "quantity": p[7],
                "price": fmt_money(p[5], currency),
                "product_id": p[0],
                "variant_id": p[1],
                "sku": p[4],
            }
            for n, p in enumerate(items)
        ],
        "shipping_lines": [
            {"code": "Standard", "price": fmt_money(490, currency), "title": "Standard"}
        ],
    }


def signed(body: bytes, topic: str, delivery: str, at: datetime) -> dict[str, str]:
    mac = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    return {
        "Content-Type": "application/json",
        "User-Agent": "Shopify-Captain-Hook",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": mac,
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Api-Version": "2025-01",
        "X-Shopify-Webhook-Id": delivery,
        "X-Shopify-Event-Id": f"evt-{delivery}",
        "X-Shopify-Triggered-At": at.isoformat(),
    }


def dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def http_delivery(tag: str, k: int) -> tuple[bytes, dict[str, str]]:
    """Delivery ``k`` of HTTP run ``tag``: a new checkout of a new customer, every time."""
    n = int(checkout_token(f"n-{tag}-{k}")[:12], 16) % 10**9  # spreads customers
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=k % 600)
    token = checkout_token(f"http-{tag}-{k}")
    body = dumps(
        checkout_payload(
            token=token,
            number=n,
            cust=customer(50_000_000 + n),
            items=pick_items(n),
            created_at=at - timedelta(minutes=4),
            updated_at=at,
        )
    )
    return body, signed(body, "checkouts/update", f"{tag}-{k}-{token[:12]}", at)
