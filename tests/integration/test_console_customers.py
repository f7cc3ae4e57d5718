"""Customers in the console (SPEC S11): the search, one customer's cases, orders, messages,
consent and suppression, and their lifecycle stage; other stores' customers are hidden."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from casework_support import seed_case
from console_support import console_as
from helpers import client, make_store, order_event, post_events
from reclaim.bootstrap import Runtime
from reclaim.services import suppressions
from reclaim.services.ingest import process_inbox


def test_search_finds_by_the_beginning_of_an_email_and_pages(rt: Runtime) -> None:
    store = make_store(rt)
    other = make_store(rt, "Other")
    seed_case(rt, store.id, email="ana@example.com")
    seed_case(rt, store.id, email="ana@example.com", age=timedelta(hours=1))
    seed_case(rt, store.id, email="bob@example.com")
    seed_case(rt, other.id, email="anabel@example.com")
    c = console_as(rt, "operator", [store.id])
    html = c.get("/console/customers?q=ANA").text
    assert "ana@example.com" in html and "bob@example.com" not in html
    assert "anabel@example.com" not in html  # a store the operator does not see
    assert c.get(f"/console/customers?store={other.id}&q=ana").status_code == 404
    assert c.get("/console/customers?q=" + "x" * 400).status_code == 422


def test_the_customer_page_has_cases_orders_consent_and_stage(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    store = make_store(rt, platform="custom")
    key = "ana@example.com"
    first = seed_case(rt, store.id, email=key)
    c = console_as(rt, "operator", [store.id])
    url = f"/console/customers/{store.id}/{quote(key, safe='')}"
    html = c.get(url).text
    assert f'href="/console/cases/{first}"' in html and "Abandoned" in html
    assert "Not on the list" in html
    events = [order_event("order.paid", clock.now, order_id="o1", email=key)]
    assert post_events(client(rt), store.api_key, events).status_code == 202
    process_inbox(uow=rt.uow(), connectors=rt.connectors, now=clock.now)
    suppressions.add(uow=rt.uow(), store_id=store.id, channel="email", address=key, now=clock.now)
    html = c.get(url).text
    assert "o1" in html and ">Customer<" in html
    assert "Added by hand" in html
    assert c.get(f"/console/customers/{store.id}/nobody%40example.com").status_code == 404
    stranger = console_as(rt, "operator", [], email="x@ops.example")
    assert stranger.get(url).status_code == 404
