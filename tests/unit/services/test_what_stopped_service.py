""" "What stopped you?" through the fakes (issue 15): the first email of an abandoned cart asks
with one signed link per reason, later ones don't; a click makes its reason the customer's
answer (a later click replaces it, the free text stays beside it); a token forged, altered or
replayed to another case records nothing; answering is not a click."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fakes import FakeSenders, FakeUnitOfWork
from reclaim.adapters.templates import TemplateRenderer
from reclaim.domain.cases import CaseReason
from reclaim.domain.links import sign_token
from reclaim.domain.messages import Channel
from reclaim.errors import AuthError
from reclaim.services.detection import detect_due
from reclaim.services.steps import run_due_steps
from reclaim.services.tracking import Links
from reclaim.services.what_stopped import (
    ASKED,
    FORM_LIFETIME,
    MAX_TEXT,
    asks,
    clean_text,
    record_answer,
    record_text,
)
from service_builders import T0, cart, flow_defaults, ingest, open_store

DUE = T0 + timedelta(hours=1)
HELP_DUE = T0 + timedelta(hours=24)
KEY = b"k" * 32
LINKS = Links(base_url="https://reclaim.example", key=KEY)
RENDERER = TemplateRenderer()


@pytest.fixture
def first() -> FakeSenders:
    return FakeSenders()


@pytest.fixture
def uow(first: FakeSenders) -> FakeUnitOfWork:
    """Two carts (Ana's, then Bob's), each sent its first email (in ``first``)."""
    uow = FakeUnitOfWork()
    store_id = open_store(uow)
    ingest(uow, store_id, cart(T0), cart(T0, checkout_id="c2", email="bob@example.com"), now=T0)
    assert detect_due(uow=uow, now=T0 + timedelta(minutes=30), flows=flow_defaults).opened == 2
    run_due_steps(uow=uow, senders=first, renderer=RENDERER, links=LINKS, now=DUE)
    return uow


def customer(uow: FakeUnitOfWork, case_id: int = 1) -> dict[str, str | None]:
    rows: list[CaseReason] = [r for _, r in uow.rows("case_reasons")]
    return {r.reason: r.detail for r in rows if r.case_id == case_id and r.source == "customer"}


def test_only_the_first_email_of_an_abandoned_cart_asks() -> None:
    assert asks("abandoned_checkout", 0, Channel.EMAIL)
    assert not asks("abandoned_checkout", 1, Channel.EMAIL)
    assert not asks("abandoned_checkout", 0, Channel.SMS)
    assert not asks("abandoned_checkout", 0, Channel.WEBHOOK)
    assert not asks("pending_order", 0, Channel.EMAIL)
    assert not asks("failed_payment", 0, Channel.EMAIL)


def test_the_first_email_carries_one_signed_link_per_reason_and_the_second_none(
    uow: FakeUnitOfWork, first: FakeSenders
) -> None:
    senders = FakeSenders()
    for message, email in zip(uow.rows("messages"), first.emails, strict=True):
        for reason in ASKED:
            url = LINKS.answer(message.id, message.case_id, str(reason))
            assert url.startswith("https://reclaim.example/a/")
            assert f'href="{url}"' in email.html and url in email.text
        assert email.text.count("/a/") == len(ASKED)
    run_due_steps(uow=uow, senders=senders, renderer=RENDERER, links=LINKS, now=HELP_DUE)
    assert senders.emails  # the help step
    for email in senders.emails:
        assert "/a/" not in email.html and "/a/" not in email.text


def test_a_click_records_the_reason_and_a_later_click_replaces_it(uow: FakeUnitOfWork) -> None:
    message = uow.rows("messages")[0]
    link = LINKS.answer(message.id, message.case_id, "extra_costs").rsplit("/", 1)[1]
    page = record_answer(uow=uow, links=LINKS, token=link, now=DUE + timedelta(hours=1))
    assert (page.reason, page.store_name, page.locale) == ("extra_costs", "Boutique", "de-DE")
    assert customer(uow) == {"extra_costs": None}
    record_answer(uow=uow, links=LINKS, token=link, now=DUE + timedelta(hours=2))
    assert customer(uow) == {"extra_costs": None}  # the same again: one answer
    other = LINKS.answer(message.id, message.case_id, "just_browsing").rsplit("/", 1)[1]
    record_answer(uow=uow, links=LINKS, token=other, now=DUE + timedelta(hours=3))
    assert customer(uow) == {"just_browsing": None}
    assert customer(uow, 2) == {}  # Bob's case untouched
    # Seen, but no click: the message's clicks and the flow are as they were.
    seen = uow.rows("messages")[0]
    assert (seen.clicks, seen.clicked_at, seen.opened_at) == (0, None, DUE + timedelta(hours=1))
    assert [s.status for s in uow.rows("steps") if s.case_id == 1][1] == "scheduled"


def test_the_free_text_is_kept_beside_the_choice(uow: FakeUnitOfWork) -> None:
    message = uow.rows("messages")[0]
    link = LINKS.answer(message.id, message.case_id, "other").rsplit("/", 1)[1]
    page = record_answer(uow=uow, links=LINKS, token=link, now=DUE)
    assert customer(uow) == {"other": None}
    done = record_text(
        uow=uow, links=LINKS, token=link, form=page.form, text="Zu\x00 teuer\r\n\u202e!", now=DUE
    )
    assert done.text == "Zu teuer\n!" and customer(uow) == {"other": "Zu teuer\n!"}
    # Another reason afterwards: the text stays; "something else" again keeps it too.
    costs = LINKS.answer(message.id, message.case_id, "extra_costs").rsplit("/", 1)[1]
    record_answer(uow=uow, links=LINKS, token=costs, now=DUE)
    record_answer(uow=uow, links=LINKS, token=link, now=DUE)
    assert customer(uow) == {"other": "Zu teuer\n!"}
    record_answer(uow=uow, links=LINKS, token=costs, now=DUE)
    assert customer(uow) == {"extra_costs": None, "other": "Zu teuer\n!"}
    record_text(uow=uow, links=LINKS, token=costs, form=page.form, text="  \x07 ", now=DUE)
    assert customer(uow) == {"extra_costs": None, "other": "Zu teuer\n!"}  # nothing to keep


def test_forged_altered_or_replayed_tokens_record_nothing(uow: FakeUnitOfWork) -> None:
    ana, bob = uow.rows("messages")
    good = LINKS.answer(ana.id, ana.case_id, "extra_costs").rsplit("/", 1)[1]
    body, mac = good.split(".")
    forged = [
        good[:-2] + ("AA" if not good.endswith("AA") else "BB"),  # the MAC altered
        sign_token({"k": "a", "m": ana.id, "c": ana.case_id, "r": "trust"}, key=b"x" * 32),
        # Signed with the right key, but the case is not the message's: no replay to Bob.
        sign_token({"k": "a", "m": ana.id, "c": bob.case_id, "r": "extra_costs"}, key=KEY),
        # A reason the question does not ask.
        sign_token({"k": "a", "m": ana.id, "c": ana.case_id, "r": "trust"}, key=KEY),
        # Another link's token (the unsubscribe link) for the same message.
        LINKS.unsubscribe(ana.id).rsplit("/", 1)[1],
        f"{body}x.{mac}",
    ]
    for token in forged:
        with pytest.raises(AuthError):
            record_answer(uow=uow, links=LINKS, token=token, now=DUE)
    assert customer(uow) == {} and customer(uow, 2) == {}
    # A form token is bound to its message and case and expires.
    page = record_answer(uow=uow, links=LINKS, token=good, now=DUE)
    bobs = LINKS.answer(bob.id, bob.case_id, "extra_costs").rsplit("/", 1)[1]
    with pytest.raises(AuthError):
        record_text(uow=uow, links=LINKS, token=bobs, form=page.form, text="x", now=DUE)
    with pytest.raises(AuthError):
        record_text(uow=uow, links=LINKS, token=good, form=good, text="x", now=DUE)
    late = DUE + FORM_LIFETIME
    with pytest.raises(AuthError):
        record_text(uow=uow, links=LINKS, token=good, form=page.form, text="x", now=late)
    assert customer(uow) == {"extra_costs": None} and customer(uow, 2) == {}


def test_clean_text() -> None:
    assert clean_text(" a\tb\r\nc\rd\x00\x1b[31m\u2066e ") == "a b\nc\nd[31me"
    assert clean_text("é" * 600) == "é" * MAX_TEXT
    assert clean_text("\ud800ok") == "ok"  # a lone surrogate
    assert clean_text("你好，运费太贵了") == "你好，运费太贵了"
