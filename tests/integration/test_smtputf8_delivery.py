"""A customer whose address is not ASCII (``jürgen@exämple.de``): accepted by the events API,
then mailed with SMTPUTF8 by a relay that offers it; a relay that does not fails that one
message for good, with the reason, and the address is not suppressed (on SQLite and
PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from helpers import MONDAY, checkout_event, client, make_store, post_events
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings
from reclaim.entrypoints.worker import run_once
from reclaim.services import suppressions
from reclaim.sim.mailbox import Mailbox

ADDRESS = "jürgen@exämple.de"


@pytest.fixture(params=[True, False], ids=["smtputf8", "ascii-only-relay"])
def relay(request: pytest.FixtureRequest) -> Iterator[Mailbox]:
    with Mailbox(smtputf8=request.param) as box:
        yield box


@pytest.fixture
def urt(db_url: str, relay: Mailbox) -> Iterator[Runtime]:
    settings = Settings(database_url=db_url, smtp_url=relay.url, public_url="http://testserver")
    runtime = bootstrap(settings, clock=lambda: MONDAY)
    init_database(runtime)
    yield runtime
    runtime.close()


def messages(rt: Runtime, key: str) -> list[dict[str, Any]]:
    c = client(rt)
    bearer = {"Authorization": f"Bearer {key}"}
    [case] = c.get("/api/v1/cases", headers=bearer).json()["cases"]
    detail = c.get(f"/api/v1/cases/{case['id']}", headers=bearer).json()
    assert detail["email"] == ADDRESS
    return list(detail["messages"])


def test_a_non_ascii_address_is_mailed_or_fails_for_good(urt: Runtime, relay: Mailbox) -> None:
    store = make_store(urt, postal_address="Buchladen GmbH, Köln")
    answer = post_events(
        client(urt),
        store.api_key,
        checkout_event(MONDAY, email=ADDRESS, first_name="Jürgen", accepts_marketing=True),
    )
    assert answer.status_code == 202
    run_once(urt, MONDAY + timedelta(minutes=31))  # the checkout is abandoned: a case
    stats = run_once(urt, MONDAY + timedelta(hours=1))  # its first reminder is due

    [message] = messages(urt, store.api_key)
    if relay.smtputf8:
        assert stats.steps.sent == 1 and message["status"] == "sent"
        [received] = relay.take()
        assert received.recipients == (ADDRESS,)
        parsed = received.parsed()
        assert parsed["To"].addresses[0].addr_spec == ADDRESS
        assert "Jürgen" in parsed.get_body(preferencelist=("plain",)).get_content()
    else:
        assert relay.received == [] and message["status"] == "failed"
        assert "SMTPUTF8" in message["error"]
    found = suppressions.check(uow=urt.uow(), store_id=store.id, channel="email", address=ADDRESS)
    assert found is None  # a relay that cannot carry the address says nothing about it
