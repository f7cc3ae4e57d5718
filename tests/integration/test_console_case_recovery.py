"""A recovered case's page says how it was recovered (issue 13): the order, its value and
when, and whether a message was credited or the customer came back on their own."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from casework_support import seed_case
from console_support import console_as
from helpers import make_store
from reclaim.bootstrap import Runtime


def test_an_organic_recovery_is_said_so(rt: Runtime) -> None:
    store = make_store(rt)
    case = seed_case(
        rt,
        store.id,
        status="recovered",
        closed_at=rt.clock() - timedelta(hours=1),
        recovered_order_external_id="1044",
        recovered_value=Decimal("123.80"),
        attribution="organic",
    )
    c = console_as(rt, "viewer", [store.id])
    page = c.get(f"/console/cases/{case}").text
    line = page[page.index('id="recovery"') : page.index("</p>", page.index('id="recovery"'))]
    assert "Recovered by order 1044 (€123.80)" in line
    assert "came back on their own" in line and "Credited" not in line


def test_an_open_case_has_no_recovery_line(rt: Runtime) -> None:
    store = make_store(rt)
    case = seed_case(rt, store.id)
    c = console_as(rt, "viewer", [store.id])
    assert 'id="recovery"' not in c.get(f"/console/cases/{case}").text
