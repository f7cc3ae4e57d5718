"""One language per message, from top to bottom (issue 14), over a real SMTP server.

A customer whose language has default templates (it-IT) reads every part of every email in it:
subject, body, labels, footer, dates and money. A customer whose language has none (fi-FI,
sv-SE) gets the whole message in the fallback language, English, with English formatting:
never English words around a Finnish date or a Swedish price. The message records the locale
it was actually written in. The unsubscribe page and the List-Unsubscribe header follow.
"""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage

import pytest
from babel.dates import format_date

from helpers import MONDAY, checkout_event, client, make_store, post_events
from reclaim.bootstrap import Runtime
from reclaim.entrypoints.worker import run_once
from reclaim.sim.mailbox import Mailbox

ITEMS = [{"sku": "LAMP-1", "name": "Lampada", "quantity": 1, "price": "1234.56"}]
ADDRESS = "Boutique Srl, Via Roma 1, 20121 Milano"
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August")


def part(msg: EmailMessage, subtype: str) -> str:
    found = msg.get_body(preferencelist=(subtype,))
    assert found is not None, f"no text/{subtype} part"
    return str(found.get_content()).replace("\r\n", "\n")


def three_emails(rt: Runtime, box: Mailbox, locale: str, timezone: str) -> list[EmailMessage]:
    """The abandoned checkout's reminder, help and incentive (with a coupon) for ``locale``."""
    store = make_store(rt, postal_address=ADDRESS, coupons_imported=True)
    c = client(rt)
    event = checkout_event(
        MONDAY,
        email="giulia@example.com",
        first_name="Giulia",
        locale=locale,
        country=locale.split("-")[1],
        timezone=timezone,
        total="1234.56",
        items=ITEMS,
        accepts_marketing=True,
    )
    assert post_events(c, store.api_key, event).status_code == 202
    sent = []
    for at in (timedelta(minutes=31), timedelta(hours=1), timedelta(hours=24), timedelta(hours=72)):
        run_once(rt, MONDAY + at)
        sent += [r.parsed() for r in box.take()]
    assert len(sent) == 3
    return sent


def test_an_italian_customer_reads_italian_from_top_to_bottom(
    mail_rt: Runtime, box: Mailbox
) -> None:
    reminder, help_, incentive = three_emails(mail_rt, box, "it-IT", "Europe/Rome")
    assert reminder["Subject"] == "Il tuo carrello su Boutique ti aspetta"
    assert help_["Subject"] == "Possiamo aiutarti con il tuo ordine?"
    text, html = part(reminder, "plain"), part(reminder, "html")
    assert text.startswith("Hai dimenticato qualcosa\n\nCiao Giulia,\n\n")
    assert "Totale: 1.234,56\u00a0€" in text  # Italian money
    assert ">1.234,56\u00a0€</td>" in html
    assert "Ricevi questa email perché hai iniziato un acquisto nel nostro negozio." in text
    assert "Annulla l'iscrizione: http://testserver/u/" in text
    assert '<html lang="it-IT" dir="ltr">' in html
    for english in ("Your cart", "Hello", "Total:", "Unsubscribe", "€1,234.56"):
        assert english not in text and english not in html, english
    # The incentive's expiry: an Italian date, nothing English around it.
    body = part(incentive, "plain")
    found = re.search(r"valido fino al (\d{1,2} \w+ \d{4})", body)
    assert found, body
    day = found.group(1)
    assert any(
        day == format_date(MONDAY.date() + timedelta(days=n), "long", locale="it_IT")
        for n in range(3, 10)
    ), day
    assert not any(month in body for month in MONTHS_EN)
    assert "Usa il mio codice" in body and "Inserisci questo codice" in body


@pytest.mark.parametrize(
    ("locale", "timezone"), [("fi-FI", "Europe/Helsinki"), ("sv-SE", "Europe/Stockholm")]
)
def test_a_language_without_templates_gets_the_whole_message_in_english(
    mail_rt: Runtime, box: Mailbox, locale: str, timezone: str
) -> None:
    reminder, _, incentive = three_emails(mail_rt, box, locale, timezone)
    assert reminder["Subject"] == "Your cart at Boutique is waiting for you"
    text, html = part(reminder, "plain"), part(reminder, "html")
    assert text.startswith("You left something behind\n\nHello Giulia,\n\n")
    assert "Total: €1,234.56" in text  # English formatting with the English words
    assert "1\u00a0234,56" not in text and "234,56" not in html  # not fi/sv formatting
    assert '<html lang="en" dir="ltr">' in html
    body = part(incentive, "plain")
    found = re.search(r"valid until (\w+) \d{1,2}, \d{4}", body)
    assert found and found.group(1) in MONTHS_EN, body
    for foreign in ("toukokuu", "kesäkuu", "maj", "juni"):
        assert foreign not in body.lower(), foreign


def test_the_recorded_locale_is_the_one_the_message_is_in(mail_rt: Runtime, box: Mailbox) -> None:
    for locale, tz in (("it-IT", "Europe/Rome"), ("fi-FI", "Europe/Helsinki")):
        store = make_store(
            mail_rt, name=f"Shop {locale}", postal_address=ADDRESS, coupons_imported=True
        )
        c = client(mail_rt)
        event = checkout_event(
            MONDAY,
            checkout_id=f"c-{locale}",
            email=f"{locale}@example.com",
            locale=locale,
            country=locale.split("-")[1],
            timezone=tz,
            items=ITEMS,
            total="1234.56",
            accepts_marketing=True,
        )
        assert post_events(c, store.api_key, event).status_code == 202
        run_once(mail_rt, MONDAY + timedelta(minutes=31))
        run_once(mail_rt, MONDAY + timedelta(hours=1))
        [msg] = [r.parsed() for r in box.take()]
        key = {"Authorization": f"Bearer {store.api_key}"}
        [case] = c.get("/api/v1/cases", headers=key).json()["cases"]
        [message] = c.get(f"/api/v1/cases/{case['id']}", headers=key).json()["messages"]
        assert message["locale"] == ("it-IT" if locale == "it-IT" else "en"), message
        # One-click unsubscribe only: no mailto that nobody reads.
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert re.fullmatch(r"<http://testserver/u/[^>]+>", msg["List-Unsubscribe"])
        assert "mailto:" not in msg["List-Unsubscribe"]


@pytest.mark.parametrize(
    ("locale", "tz", "lang", "direction", "question", "button", "done"),
    [
        (
            "de-DE",
            "Europe/Berlin",
            "de-DE",
            "ltr",
            "Möchten Sie keine Nachrichten von Boutique mehr an g…@example.com erhalten?",
            "Abmelden",
            "Sie erhalten diese Nachrichten von Boutique nicht mehr.",
        ),
        (
            "ja-JP",
            "Asia/Tokyo",
            "ja-JP",
            "ltr",
            "Boutique から g…@example.com へのメッセージの配信を停止しますか？",
            "配信を停止する",
            "Boutique からのこれらのメッセージは、今後お送りしません。",
        ),
        (
            "ar-EG",
            "Africa/Cairo",
            "ar-EG",
            "rtl",
            "هل تريد إيقاف الرسائل من Boutique إلى g…@example.com؟",
            "إلغاء الاشتراك",
            "لن تصلك هذه الرسائل من Boutique بعد الآن.",
        ),
        (
            "fi-FI",
            "Europe/Helsinki",
            "en",
            "ltr",
            "Stop messages from Boutique to g…@example.com?",
            "Unsubscribe",
            "You will get no more of these messages from Boutique.",
        ),
    ],
)
def test_the_unsubscribe_page_speaks_the_messages_language(
    mail_rt: Runtime,
    box: Mailbox,
    locale: str,
    tz: str,
    lang: str,
    direction: str,
    question: str,
    button: str,
    done: str,
) -> None:
    store = make_store(mail_rt, postal_address=ADDRESS)
    c = client(mail_rt)
    event = checkout_event(
        MONDAY,
        email="giulia@example.com",
        locale=locale,
        country=locale.split("-")[1],
        timezone=tz,
        items=ITEMS,
        accepts_marketing=True,
    )
    assert post_events(c, store.api_key, event).status_code == 202
    run_once(mail_rt, MONDAY + timedelta(minutes=31))
    run_once(mail_rt, MONDAY + timedelta(hours=1))
    [msg] = [r.parsed() for r in box.take()]
    path = re.search(r"http://testserver(/u/[^\s\"<>]+)", part(msg, "plain"))
    assert path, part(msg, "plain")
    page = c.get(path.group(1))
    assert page.status_code == 200
    assert f"<html lang='{lang}' dir='{direction}'>" in page.text
    assert f"<p>{question}</p>" in page.text
    assert f"<button type='submit'>{button}</button>" in page.text
    posted = c.post(path.group(1), data={"confirm": "1"})
    assert posted.status_code == 200
    assert f"<html lang='{lang}' dir='{direction}'>" in posted.text
    assert f"<p>{done}</p>" in posted.text
    again = c.get(path.group(1))
    assert f"<html lang='{lang}' dir='{direction}'>" in again.text
    assert "g…@example.com" in again.text and "Boutique" in again.text
