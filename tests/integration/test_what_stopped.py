""" "What stopped you?" end to end (issue 15), over a real SMTP server, on SQLite and PostgreSQL.

The first email of an abandoned checkout asks, in the customer's language, with one signed
link per reason in both its HTML and its plain-text part; a click records the customer's own
answer, which ``reclaim report --format json`` lists under the customers' answers; the page
thanks them in their language and keeps their free text (escaped when shown); a link forged,
altered or replayed to another case answers 404 and records nothing.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from helpers import MONDAY, checkout_event, cli_env, client, make_store, post_events, run_cli
from reclaim.bootstrap import Runtime, bootstrap
from reclaim.config import Settings
from reclaim.domain.links import sign_token
from reclaim.entrypoints.api import create_app
from reclaim.entrypoints.edge import CSP
from reclaim.entrypoints.worker import run_once
from reclaim.services.stores import NewStore
from reclaim.sim.mailbox import Mailbox

ADDRESS = "Boutique SAS, 1 rue de Rivoli, 75001 Paris"
ITEMS = [{"sku": "LAMP-1", "name": "Lamp", "quantity": 1, "price": "120.00"}]
ANSWER = re.compile(r"http://testserver(/a/[A-Za-z0-9_.-]+)")
REASONS = ["extra_costs", "delivery_too_slow", "payment_methods", "just_browsing", "other"]


def part(msg: EmailMessage, subtype: str) -> str:
    found = msg.get_body(preferencelist=(subtype,))
    assert found is not None, f"no text/{subtype} part"
    return str(found.get_content()).replace("\r\n", "\n")


def first_emails(
    rt: Runtime, box: Mailbox, *customers: tuple[str, str, str]
) -> tuple[NewStore, TestClient, list[EmailMessage]]:
    """A store, a cart per customer (checkout id, email, locale), and the first email of each
    (then the second one's time: it must not ask)."""
    store = make_store(rt, postal_address=ADDRESS)
    c = client(rt)
    for checkout_id, email, locale in customers:
        event = checkout_event(
            MONDAY,
            checkout_id=checkout_id,
            email=email,
            locale=locale,
            country=locale.split("-")[1],
            items=ITEMS,
            total="120.00",
            accepts_marketing=True,
        )
        assert post_events(c, store.api_key, event).status_code == 202
    run_once(rt, MONDAY + timedelta(minutes=31))
    run_once(rt, MONDAY + timedelta(hours=1))
    sent = [r.parsed() for r in box.take()]
    assert len(sent) == len(customers)
    run_once(rt, MONDAY + timedelta(hours=24))
    later = [r.parsed() for r in box.take()]
    assert len(later) == len(customers)
    for msg in later:
        assert "/a/" not in part(msg, "plain") and "/a/" not in part(msg, "html")
    return store, c, sorted(sent, key=lambda m: str(m["To"]))


def customer_answers(rt: Runtime) -> dict[int, dict[str, str | None]]:
    uow = rt.uow()
    found: dict[int, dict[str, str | None]] = {}
    with uow:
        for case_id in (1, 2):
            found[case_id] = {
                r.reason: r.detail for r in uow.cases.reasons(case_id) if r.source == "customer"
            }
    return found


@pytest.mark.parametrize(
    ("locale", "question", "labels"),
    [
        (
            "en-GB",
            "What stopped you? One click tells us:",
            ["Shipping costs", "Delivery time", "Payment options", "Just looking"],
        ),
        ("zh-CN", "是什么让您没有完成下单？点一下告诉我们：", ["运费", "配送时间", "支付方式"]),
        ("ar-EG", "ما الذي منعك من إتمام طلبك؟ تكفي نقرة واحدة:", ["تكلفة الشحن", "طرق الدفع"]),
    ],
)
def test_the_first_email_asks_in_the_customers_language(
    mail_rt: Runtime, box: Mailbox, locale: str, question: str, labels: list[str]
) -> None:
    _, _, [msg] = first_emails(mail_rt, box, ("c1", "ana@example.com", locale))
    text, html = part(msg, "plain"), part(msg, "html")
    assert question in text and question in html
    links = ANSWER.findall(text)
    assert len(links) == len(REASONS) and len(set(links)) == len(REASONS)
    for path in links:
        assert f'href="http://testserver{path}"' in html
    for label in labels:
        assert re.search(rf"- {re.escape(label)}\S*\s?http://testserver/a/", text), label
        assert f">{label}</a>" in html
    # The question comes after the button, before the footer.
    assert text.index(question) > text.index("http://testserver/t/r/")
    assert text.index(question) < text.index("http://testserver/u/")


def test_a_click_is_the_customers_answer_in_the_report(
    mail_rt: Runtime, box: Mailbox, tmp_path: Path
) -> None:
    store, c, [ana, bob] = first_emails(
        mail_rt, box, ("c1", "ana@example.com", "zh-CN"), ("c2", "bob@example.com", "en-GB")
    )
    costs = ANSWER.findall(part(ana, "plain"))[0]
    page = c.get(costs)
    assert page.status_code == 200
    assert "<html lang='zh-Hans-CN' dir='ltr'>" in page.text and "<h1>谢谢</h1>" in page.text
    assert "感谢您告诉 Boutique 是什么让您没有下单。" in page.text
    assert page.headers["content-security-policy"] == CSP
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store, private"
    assert c.get(costs).status_code == 200  # a second click: still one answer
    bobs = ANSWER.findall(part(bob, "plain"))
    assert c.get(bobs[3]).status_code == 200  # just looking
    assert c.get(bobs[1]).status_code == 200  # no, delivery time: the later click stands
    assert customer_answers(mail_rt) == {
        1: {"extra_costs": None},
        2: {"delivery_too_slow": None},
    }
    # Not a click: the message's clicks are as they were (its open is recorded: it was seen).
    key = {"Authorization": f"Bearer {store.api_key}"}
    messages = c.get("/api/v1/cases/1", headers=key).json()["messages"]
    [message] = [m for m in messages if m["template"] == "abandoned_checkout/reminder"]
    assert (message["clicks"], message["clicked_at"]) == (0, None)
    assert message["opened_at"] is not None

    env = cli_env(tmp_path / "unused.sqlite3", RECLAIM_DATABASE_URL=mail_rt.settings.database_url)
    args = ["report", "--store", store.id, "--period", "2026-05", "--format", "json"]
    p = run_cli([*args, "--now", "2026-06-02T00:00:00+00:00"], env)
    answers = json.loads(p.stdout)["customer_reasons"]
    assert answers["answered"] == 2
    shares = {r["reason"]: (r["cases"], r["share"]) for r in answers["reasons"]}
    assert shares == {"extra_costs": (1, 0.5), "delivery_too_slow": (1, 0.5)}


def test_the_free_text_is_kept_and_shown_escaped(mail_rt: Runtime, box: Mailbox) -> None:
    _, c, [msg] = first_emails(mail_rt, box, ("c1", "ana@example.com", "ar-EG"))
    other = ANSWER.findall(part(msg, "plain"))[-1]
    page = c.get(other)
    assert "<html lang='ar-EG' dir='rtl'>" in page.text
    form = re.search(r"name='form' value='([^']+)'", page.text)
    assert form and "maxlength='500'" in page.text
    said = "<script>alert(1)</script> الشحن \x1b غالٍ\r\n" + "x" * 600
    posted = c.post(other, data={"form": form.group(1), "text": said})
    assert posted.status_code == 200
    assert posted.headers["content-security-policy"] == CSP
    assert "<script>" not in posted.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; الشحن  غالٍ" in posted.text
    assert "لقد وصلت رسالتك إلى Boutique." in posted.text
    [detail] = customer_answers(mail_rt)[1].values()
    assert detail is not None and detail.startswith("<script>alert(1)</script> الشحن  غالٍ\nxxx")
    assert len(detail) == 500
    # Without the page's form token, or with another one, nothing is kept.
    for bad in ({"text": "hi"}, {"form": other.rsplit("/", 1)[1], "text": "hi"}):
        assert c.post(other, data=bad).status_code in (400, 404)
    assert customer_answers(mail_rt)[1] == {"other": detail}


def test_forged_or_altered_links_answer_404_and_record_nothing(
    mail_rt: Runtime, box: Mailbox
) -> None:
    _, c, [ana, bob] = first_emails(
        mail_rt, box, ("c1", "ana@example.com", "de-DE"), ("c2", "bob@example.com", "fr-FR")
    )
    path = ANSWER.findall(part(ana, "plain"))[0]
    token = path.rsplit("/", 1)[1]
    body, mac = token.split(".")
    payload = json.loads(_unb64(body))
    assert set(payload) == {"k", "m", "c", "r"}  # identifiers only: nothing personal
    key = mail_rt.links().key
    bob_case = 2 if payload["c"] == 1 else 1
    bad = [
        f"/a/{body}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",  # the MAC altered
        f"/a/{_b64({**payload, 'r': 'just_browsing'})}.{mac}",  # the reason
        f"/a/{_b64({**payload, 'c': bob_case})}.{mac}",  # the case
        "/a/" + sign_token({**payload, "c": bob_case}, key=key),  # replayed to Bob's case
        "/a/" + sign_token({**payload, "r": "trust"}, key=key),  # a reason never asked
        "/a/" + sign_token(payload, key=b"another key, 32 bytes long......"),
        "/a/not-a-token",
    ]
    for wrong in bad:
        page = c.get(wrong)
        assert page.status_code == 404, wrong
        assert "This link is not valid." in page.text
        assert c.post(wrong, data={"form": "x", "text": "hi"}).status_code in (400, 404)
    assert customer_answers(mail_rt) == {1: {}, 2: {}}
    assert "/a/" not in str(bob.get("List-Unsubscribe"))


def _b64(payload: dict[str, object]) -> str:
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


def _unb64(text: str) -> str:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()


def test_the_answer_page_has_the_public_rate_limit(sqlite_rt: Runtime) -> None:
    url = sqlite_rt.settings.database_url
    rt = bootstrap(
        Settings(database_url=url, rate_limit_enabled=True, rate_limit_public="3/minute")
    )
    try:
        c = TestClient(create_app(rt))
        codes = [c.get("/a/x").status_code for _ in range(2)]
        codes.append(c.post("/a/x", data={"form": "x", "text": "hi"}).status_code)
        limited = c.get("/a/x")
        assert codes == [404, 404, 404] and limited.status_code == 429
        assert c.get("/t/c/x").status_code == 429  # one count for every public page
    finally:
        rt.close()
