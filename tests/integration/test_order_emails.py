"""What a customer is told about an order (issue 14), end to end: platform webhooks and events
over HTTP, the worker, and the email as a real SMTP server (aiosmtpd) received it. On SQLite
and on the real PostgreSQL.

Every expectation is derived from the input payload: the order's own name, its lines, shipping,
tax and total as the platform states them, formatted in the customer's locale with Babel (the
library, not Reclaim's code), and the store's own text.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from babel.numbers import format_currency

from helpers import (
    MONDAY,
    client,
    make_store,
    order_event,
    post_events,
    shopify_headers,
    stripe_headers,
    woo_headers,
)
from reclaim.bootstrap import Runtime
from reclaim.entrypoints.worker import run_once
from reclaim.sim.mailbox import Mailbox

FIX = Path(__file__).resolve().parents[1] / "fixtures"
ADDRESS = "Rösterei Nord GmbH, Schönhauser Allee 1, 10435 Berlin"
BANK = (
    "Bitte überweisen Sie den Betrag an:\n"
    "Rösterei Nord GmbH\n"
    "IBAN DE02 1203 0000 0000 2020 51 · BIC BYLADEM1001\n"
    "Verwendungszweck: Ihre Bestellnummer"
)


def load(platform: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIX / platform / name).read_bytes())
    return data


def gmt(at: datetime) -> str:
    """WooCommerce's ``*_gmt`` fields: naive UTC."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def woo_order(name: str, at: datetime, **changes: Any) -> dict[str, Any]:
    """A WooCommerce fixture placed at ``at`` (after the store was switched on)."""
    data = load("woocommerce", name)
    data.update(
        date_created_gmt=gmt(at),
        date_modified_gmt=gmt(at + timedelta(seconds=2)),
        date_created=gmt(at),
        date_modified=gmt(at + timedelta(seconds=2)),
    )
    data.update(changes)
    return data


def shopify_order(at: datetime, **changes: Any) -> dict[str, Any]:
    data = load("shopify", "order_create_pending_br.json")
    stamp = at.isoformat().replace("+00:00", "Z")
    data.update(created_at=stamp, processed_at=stamp, updated_at=stamp)
    data.update(changes)
    return data


def post_woo(rt: Runtime, store_id: str, data: dict[str, Any], topic: str) -> None:
    body = json.dumps(data).encode()
    r = client(rt).post(
        f"/webhooks/woocommerce/{store_id}", content=body, headers=woo_headers(body, topic)
    )
    assert r.status_code == 200, r.text


def post_shopify(rt: Runtime, store_id: str, data: dict[str, Any]) -> None:
    body = json.dumps(data).encode()
    headers = shopify_headers(body, "orders/create", f"wh-{data['id']}")
    r = client(rt).post(f"/webhooks/shopify/{store_id}", content=body, headers=headers)
    assert r.status_code == 200, r.text


def first_email(rt: Runtime, box: Mailbox, occurred: datetime, after: timedelta) -> EmailMessage:
    """Run the worker when the case opens and when its first step is due; the one email."""
    for at in sorted({occurred + timedelta(minutes=31), occurred + after}):
        run_once(rt, at)
    [received] = box.take()
    return received.parsed()


def part(msg: EmailMessage, subtype: str) -> str:
    found = msg.get_body(preferencelist=(subtype,))
    assert found is not None, f"no text/{subtype} part"
    return str(found.get_content()).replace("\r\n", "\n")


def money(amount: Decimal | str, currency: str, locale: str) -> str:
    return format_currency(Decimal(amount), currency, locale=locale)


def cart_lines(text: str) -> list[str]:
    """The plain text's cart: from the first item line to the line after the total."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("- "))
    end = next(i for i in range(start, len(lines)) if lines[i] == "")
    return lines[start:end]


# -- 1. the order's own name, not the platform's internal id ------------------------------------


def test_shopify_pending_order_email_names_the_order_not_its_internal_id(
    mail_rt: Runtime, box: Mailbox
) -> None:
    store = make_store(mail_rt, postal_address=ADDRESS)
    placed = MONDAY + timedelta(hours=6)  # 11:00 in São Paulo: no quiet hours
    data = shopify_order(placed)
    post_shopify(mail_rt, store.id, data)
    msg = first_email(mail_rt, box, placed, timedelta(hours=1))
    text, html = part(msg, "plain"), part(msg, "html")
    # A Brazilian customer reads Brazilian Portuguese, words and money alike (issue 14).
    assert msg["Subject"] == f"Seu pedido {data['name']} está aguardando pagamento"
    assert f"Obrigado pelo seu pedido {data['name']} na loja Boutique." in text
    for shown in (msg["Subject"], text, html):
        assert str(data["id"]) not in shown


def test_woocommerce_order_email_names_the_order_by_its_number(
    mail_rt: Runtime, box: Mailbox
) -> None:
    store = make_store(mail_rt, platform="woocommerce", postal_address=ADDRESS)
    data = woo_order("order_on_hold_de.json", MONDAY, number="RN-2026-0815")
    post_woo(mail_rt, store.id, data, "order.created")
    msg = first_email(mail_rt, box, MONDAY, timedelta(hours=1))
    assert msg["Subject"] == f"Ihre Bestellung {data['number']} wartet auf Ihre Zahlung"
    assert f"Vielen Dank für Ihre Bestellung {data['number']} bei Boutique." in part(msg, "plain")
    assert f"Ihre Bestellung {data['id']} " not in part(msg, "plain")


# -- 2. lines that add up to the total shown -----------------------------------------------------


@pytest.mark.parametrize(
    ("country", "language", "included", "locale", "labels"),
    [
        ("DE", "de", True, "de_DE", ("Versand: ", "Gesamtsumme: ", "inkl. MwSt.: ")),
        ("US", "en", False, "en_US", ("Shipping: ", "Total: ", "Tax: ")),
    ],
    ids=["prices-include-vat-de", "tax-added-us"],
)
def test_woocommerce_cart_lines_shipping_and_tax_add_up_to_the_total(
    mail_rt: Runtime,
    box: Mailbox,
    country: str,
    language: str,
    included: bool,
    locale: str,
    labels: tuple[str, str, str],
) -> None:
    store = make_store(mail_rt, platform="woocommerce", postal_address=ADDRESS)
    placed = MONDAY if country == "DE" else MONDAY + timedelta(hours=6)  # 10:00 in both
    data = woo_order("order_on_hold_de.json", placed, prices_include_tax=included)
    data["billing"] = {**data["billing"], "country": country, "state": "NY"}
    data["meta_data"] = [{"id": 1, "key": "wpml_language", "value": language}]
    post_woo(mail_rt, store.id, data, "order.created")
    msg = first_email(mail_rt, box, placed, timedelta(hours=1))
    text, html = part(msg, "plain"), part(msg, "html")

    D = Decimal
    lines = data["line_items"]
    if included:  # the shop shows prices with VAT: so do the lines, shipping and discount
        line_amounts = [D(li["subtotal"]) + D(li["subtotal_tax"]) for li in lines]
        shipping = D(data["shipping_total"]) + D(data["shipping_tax"])
    else:
        line_amounts = [D(li["subtotal"]) for li in lines]
        shipping = D(data["shipping_total"])
    tax, total = D(data["total_tax"]), D(data["total"])
    assert D(data["discount_total"]) == 0 and not data["fee_lines"]
    added_tax = 0 if included else tax
    assert sum(line_amounts) + shipping + added_tax == total  # the payload itself adds up

    ship_label, total_label, tax_label = labels
    expected = [
        f"- {li['name']} × {li['quantity']}: {money(amount, 'EUR', locale)}"
        for li, amount in zip(lines, line_amounts, strict=True)
    ]
    expected.append(f"{ship_label}{money(shipping, 'EUR', locale)}")
    if included:
        expected += [
            f"{total_label}{money(total, 'EUR', locale)}",
            f"{tax_label}{money(tax, 'EUR', locale)}",
        ]
    else:
        expected += [
            f"{tax_label}{money(tax, 'EUR', locale)}",
            f"{total_label}{money(total, 'EUR', locale)}",
        ]
    assert cart_lines(text) == expected
    for amount in [*line_amounts, shipping, tax, total]:
        assert f">{money(amount, 'EUR', locale)}</td>" in html


def post_checkout(rt: Runtime, store_id: str, data: dict[str, Any], topic: str) -> None:
    body = json.dumps(data).encode()
    headers = shopify_headers(body, topic, f"wh-{data['token']}")
    r = client(rt).post(f"/webhooks/shopify/{store_id}", content=body, headers=headers)
    assert r.status_code == 200, r.text


def test_shopify_abandoned_cart_shows_its_shipping_as_shipping_not_other_charges(
    mail_rt: Runtime, box: Mailbox
) -> None:
    """A cart's email explains its total as an order's does: the checkout's shipping line,
    discount and tax (here German prices with VAT), not one "other charges" row."""
    store = make_store(mail_rt, postal_address=ADDRESS)
    data = load("shopify", "checkout_create_de.json")
    stamp = MONDAY.isoformat()
    data.update(created_at=stamp, updated_at=stamp)
    post_checkout(mail_rt, store.id, data, "checkouts/create")
    msg = first_email(mail_rt, box, MONDAY, timedelta(hours=1))
    text, html = part(msg, "plain"), part(msg, "html")

    D = Decimal
    assert data["taxes_included"] is True and D(data["total_discounts"]) == 0
    lines = data["line_items"]
    amounts = [D(li["price"]) * li["quantity"] for li in lines]
    [ship] = data["shipping_lines"]
    shipping, total, tax = D(ship["price"]), D(data["total_price"]), D(data["total_tax"])
    assert sum(amounts) + shipping == total  # the payload itself adds up

    expected = [
        f"- {li['title']} × {li['quantity']}: {money(amount, 'EUR', 'de_DE')}"
        for li, amount in zip(lines, amounts, strict=True)
    ]
    expected += [
        f"Versand: {money(shipping, 'EUR', 'de_DE')}",
        f"Gesamtsumme: {money(total, 'EUR', 'de_DE')}",
        f"inkl. MwSt.: {money(tax, 'EUR', 'de_DE')}",
    ]
    assert cart_lines(text) == expected
    for amount in [*amounts, shipping, tax, total]:
        assert f">{money(amount, 'EUR', 'de_DE')}</td>" in html


# -- 3. how to pay an offline (bank transfer) order ---------------------------------------------


def set_instructions(db_url: str, store_id: str, text: str) -> None:
    """``reclaim store set ID --payment-instructions …``, as an operator runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECLAIM_")}
    env.update(RECLAIM_DATABASE_URL=db_url, RECLAIM_CONFIG="/nonexistent/reclaim.toml")
    done = subprocess.run(
        [sys.executable, "-m", "reclaim", "store", "set", store_id, "--payment-instructions", text],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "payment_instructions" in done.stdout


def test_bank_transfer_reminder_carries_the_stores_payment_instructions(
    mail_rt: Runtime, box: Mailbox, db_url: str
) -> None:
    store = make_store(mail_rt, platform="woocommerce", postal_address=ADDRESS)
    set_instructions(db_url, store.id, BANK)
    data = woo_order("order_on_hold_de.json", MONDAY)
    assert (data["payment_method"], data["status"]) == ("bacs", "on-hold")
    post_woo(mail_rt, store.id, data, "order.created")
    msg = first_email(mail_rt, box, MONDAY, timedelta(hours=1))
    text, html = part(msg, "plain"), part(msg, "html")
    amount = money(data["total"], "EUR", "de_DE")
    assert (
        f"Vielen Dank für Ihre Bestellung {data['number']} bei Boutique. Wir warten noch auf "
        "Ihre Überweisung. Sobald sie eingeht, bereiten wir Ihre Bestellung für den Versand vor."
    ) in text
    assert f"So bezahlen Sie\nZu zahlender Betrag: {amount}\n{BANK}\n" in text
    assert "IBAN DE02 1203 0000 0000 2020 51 · BIC BYLADEM1001" in html
    for shown in (text, html):
        assert "bacs" not in shown
        assert "noch nicht eingegangen" not in shown  # the card wording is not used


def test_shopify_bank_deposit_reminder_says_what_it_waits_for(
    mail_rt: Runtime, box: Mailbox
) -> None:
    store = make_store(
        mail_rt, postal_address=ADDRESS, payment_instructions="Pay to IBAN GB33BUKB20201555555555."
    )
    placed = MONDAY + timedelta(hours=6)
    data = shopify_order(placed, payment_gateway_names=["Bank Deposit"], gateway="Bank Deposit")
    post_shopify(mail_rt, store.id, data)
    text = part(first_email(mail_rt, box, placed, timedelta(hours=1)), "plain")
    assert "Ainda estamos aguardando sua transferência bancária." in text
    assert "Ainda não recebemos seu pagamento" not in text
    amount = money(data["total_price_set"]["presentment_money"]["amount"], "BRL", "pt_BR")
    assert f"Como pagar\nValor a pagar: {amount}\nPay to IBAN GB33BUKB20201555555555.\n" in text
    assert "Bank Deposit" not in text


def test_order_with_its_own_payment_details_shows_them_and_a_card_order_shows_none(
    mail_rt: Runtime, box: Mailbox
) -> None:
    store = make_store(
        mail_rt, platform="custom", postal_address=ADDRESS, payment_instructions="Store text."
    )
    c = client(mail_rt)
    own = "Transfer 50.00 EUR to IBAN FR76 3000 6000 0112 3456 7890 189, reference WEB-77."
    created = order_event(
        "order.created",
        MONDAY,
        order_id="web-77",
        order_number="WEB-77",
        email="ana@example.de",
        locale="de-DE",
        payment_method="bank_transfer",
        payment_instructions=own,
        total="50.00",
        items=[{"sku": "MUG-1", "name": "Becher", "quantity": 2, "price": "25.00"}],
    )
    card = order_event(
        "order.created",
        MONDAY,
        order_id="web-78",
        order_number="WEB-78",
        email="ben@example.de",
        locale="de-DE",
        payment_method="card",
    )
    assert post_events(c, store.api_key, [created, card]).status_code == 202
    run_once(mail_rt, MONDAY + timedelta(minutes=31))
    run_once(mail_rt, MONDAY + timedelta(hours=1))
    mails = {m.recipients[0]: part(m.parsed(), "plain") for m in box.take()}
    assert (
        f"So bezahlen Sie\nZu zahlender Betrag: {money('50.00', 'EUR', 'de_DE')}\n{own}\n"
        in (mails["ana@example.de"])
    )
    assert "Store text." not in mails["ana@example.de"]
    assert "So bezahlen Sie" not in mails["ben@example.de"]
    assert "Store text." not in mails["ben@example.de"]


# -- 4. a failed payment says what it was for ----------------------------------------------------


def test_failed_woocommerce_payment_shows_amount_items_and_order(
    mail_rt: Runtime, box: Mailbox
) -> None:
    store = make_store(mail_rt, platform="woocommerce", postal_address=ADDRESS)
    failed_at = MONDAY + timedelta(hours=6)  # 11:00 in Manaus
    data = woo_order("order_failed_br.json", failed_at, number="BR-4712")
    post_woo(mail_rt, store.id, data, "order.updated")
    msg = first_email(mail_rt, box, failed_at, timedelta(minutes=10))
    text = part(msg, "plain")
    amount = money(data["total"], "BRL", "pt_BR")
    assert (
        f"O pagamento de {amount} do seu pedido {data['number']} na loja Boutique foi recusado."
        in text
    )
    [line] = data["line_items"]
    assert f"- {line['name']} × {line['quantity']}: {money(line['subtotal'], 'BRL', 'pt_BR')}" in (
        text
    )
    assert f"Frete: {money(data['shipping_total'], 'BRL', 'pt_BR')}" in text
    assert f"Total: {amount}" in text


def test_failed_stripe_payment_without_a_known_order_still_shows_the_amount(
    mail_rt: Runtime, box: Mailbox
) -> None:
    store = make_store(mail_rt, platform="stripe", postal_address=ADDRESS)
    event = load("stripe", "payment_intent_payment_failed.json")
    failed_at = MONDAY
    event["created"] = int(failed_at.timestamp())
    intent = event["data"]["object"]
    body = json.dumps(event).encode()
    r = client(mail_rt).post(
        f"/webhooks/stripe/{store.id}", content=body, headers=stripe_headers(body, MONDAY)
    )
    assert r.status_code == 200, r.text
    msg = first_email(mail_rt, box, failed_at, timedelta(minutes=10))
    text = part(msg, "plain")
    amount = money(Decimal(intent["amount"]) / 100, "EUR", "de_AT")
    order = intent["metadata"]["order_id"]  # all Reclaim knows of the order: the shop's id
    assert (
        f"Ihre Bank hat die Zahlung über {amount} für Ihre Bestellung {order} bei Boutique "
        "abgelehnt, weil das verfügbare Guthaben oder das Kartenlimit nicht ausgereicht hat."
    ) in text


# -- 5. the footer without a postal address -------------------------------------------------------


def test_footer_without_a_postal_address_has_no_dangling_separator(
    mail_rt: Runtime, box: Mailbox
) -> None:
    store = make_store(mail_rt, platform="woocommerce", name="Store B", postal_address="")
    data = woo_order("order_on_hold_de.json", MONDAY)
    post_woo(mail_rt, store.id, data, "order.created")
    msg = first_email(mail_rt, box, MONDAY, timedelta(hours=1))
    text, html = part(msg, "plain"), part(msg, "html")
    footer = text.split("\n--\n", 1)[1].splitlines()
    assert footer[-2] == "Store B" and footer[-1].startswith("Abmelden: http")
    assert "Store B," not in text
    assert "<strong><bdi>Store B</bdi></strong><br>" in html
    assert "</strong> ·" not in html
