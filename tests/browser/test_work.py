"""The console's daily work in a real Chromium (issue 13): the queue's order on a seeded set
of cases; a case action visible in the case's timeline and in the audit log; a viewer
refused an action; one store's operator unable to reach another store's case by URL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from browser_support import Live, sign_in
from casework_support import seed_case
from helpers import make_store


def _queue_ids(page: Any) -> list[int]:
    links = page.locator("table tbody tr td:nth-child(3) a").all_inner_texts()
    return [int(text.lstrip("#")) for text in links]


def test_the_queue_shows_the_seeded_cases_in_score_order(page: Any, live: Live) -> None:
    store = make_store(live.rt)
    # Scores by the documented weights (domain/priority.py), worked out in
    # tests/integration/test_console_queue.py: 87 > 76 > 52 > 10 (margin unknown here: the
    # order is the same without it).
    small = seed_case(live.rt, store.id, value=Decimal("20"), age=timedelta(minutes=10))
    card = seed_case(
        live.rt, store.id, kind="failed_payment", reason="authentication_failed", country="BR",
        age=timedelta(hours=3),
    )  # fmt: skip
    big = seed_case(
        live.rt, store.id, kind="pending_order", reason="awaiting_payment",
        value=Decimal("1200"), country="US", age=timedelta(hours=8),
    )  # fmt: skip
    yen = seed_case(
        live.rt, store.id, value=Decimal("150000"), currency="JPY", country="JP",
        age=timedelta(days=2),
    )  # fmt: skip
    live.user("ana@example.com", "operator", (store.id,))
    sign_in(page, "ana@example.com")
    page.goto("/console/queue")
    assert _queue_ids(page) == [big, yen, card, small]
    # The filter form narrows it, as a person uses it.
    page.get_by_label("Country").fill("BR")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_load_state()
    assert _queue_ids(page) == [card]


def test_a_note_shows_in_the_timeline_and_the_audit_log(page: Any, live: Live) -> None:
    store = make_store(live.rt)
    case = seed_case(live.rt, store.id, value=Decimal("250"), country="DE")
    live.user("ana@example.com", "operator", (store.id,))
    live.user("boss@example.com", "admin")
    sign_in(page, "ana@example.com")
    page.goto(f"/console/cases/{case}")
    page.get_by_label("Note", exact=True).last.fill("Called: she pays by bank transfer tomorrow")
    page.get_by_role("button", name="Add note").click()
    page.wait_for_load_state()
    timeline = page.locator("ul.timeline").last.inner_text()
    assert "Called: she pays by bank transfer tomorrow" in timeline
    assert "ana@example.com" in timeline
    page.get_by_role("button", name="Take out of automation").first.click()
    page.wait_for_load_state()
    assert "Resume automation" in page.content()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "boss@example.com")
    page.goto(f"/console/audit?store={store.id}")
    row = page.locator("table tbody tr", has_text="case.note").first.inner_text()
    assert "console:ana@example.com" in row and str(case) in row


def test_a_viewer_sees_no_action_and_a_forged_one_is_refused(page: Any, live: Live) -> None:
    store = make_store(live.rt)
    case = seed_case(live.rt, store.id)
    live.user("vic@example.com", "viewer", (store.id,))
    sign_in(page, "vic@example.com")
    page.goto(f"/console/cases/{case}")
    assert page.get_by_role("button", name="Take out of automation").count() == 0
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    answer = page.request.post(
        f"/console/cases/{case}/act", form={"action": "take_out", "csrf": csrf or ""}
    )
    assert answer.status == 403 and "Not allowed" in answer.text()
    with live.rt.reader() as uow:
        found = uow.cases.get(case)
    assert found is not None and not found.manual


def test_another_stores_case_is_not_there_for_an_operator(page: Any, live: Live) -> None:
    mine = make_store(live.rt)
    theirs = make_store(live.rt, "Other shop")
    case = seed_case(live.rt, theirs.id, email="someone@example.com")
    live.user("ana@example.com", "operator", (mine.id,))
    sign_in(page, "ana@example.com")
    answer = page.goto(f"/console/cases/{case}")
    assert answer is not None and answer.status == 404
    assert "someone@example.com" not in page.content()
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    forged = page.request.post(
        f"/console/cases/{case}/act", form={"action": "take_out", "csrf": csrf or ""}
    )
    assert forged.status == 404
    assert page.goto(f"/console/customers/{theirs.id}/someone%40example.com").status == 404  # type: ignore[union-attr]
