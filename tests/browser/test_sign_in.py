"""Signing in and out of the console in a real Chromium (issue 13): a wrong password is
refused with the form's message and no session; the right one opens the console; a form
posted without its session's CSRF token is refused; signing out ends the session."""

from __future__ import annotations

from typing import Any

from browser_support import Live, sign_in
from helpers import make_store


def test_a_wrong_password_is_refused_and_the_right_one_signs_in(page: Any, live: Live) -> None:
    make_store(live.rt, name="Boutique")
    live.user("ops@example.com", "admin")
    sign_in(page, "ops@example.com", "not the password at all")
    assert "/console/login" in page.url
    assert page.get_by_role("alert").inner_text().strip() == "Wrong email or password."
    assert not [c for c in page.context.cookies() if c["name"] == "reclaim_session"]

    sign_in(page, "ops@example.com")
    assert "/console/login" not in page.url
    cookie = next(c for c in page.context.cookies() if c["name"] == "reclaim_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert page.get_by_role("button", name="Sign out").is_visible()


def test_a_post_without_the_csrf_token_is_refused(page: Any, live: Live) -> None:
    live.user("ops@example.com", "admin")
    sign_in(page, "ops@example.com")
    # The browser's own cookies, a form field that is not the session's token.
    answer = page.request.post(
        "/console/locale", form={"locale": "zh-CN", "csrf": "forged"}, max_redirects=0
    )
    assert answer.status == 403
    assert "This form has expired" in answer.text()
    with live.rt.reader() as uow:
        user = uow.users.by_email("ops@example.com")
    assert user is not None and user.locale == "en"  # nothing changed


def test_signing_out_ends_the_session(page: Any, live: Live) -> None:
    live.user("ops@example.com", "admin")
    sign_in(page, "ops@example.com")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    assert "/console/login" in page.url
    page.goto("/console/queue")
    assert "/console/login" in page.url  # sent back to the form
    with live.rt.reader() as uow:
        user = uow.users.by_email("ops@example.com")
        assert user is not None and user.id is not None
        assert uow.users.end_sessions(user.id) == 0  # no session left (read-only: not kept)
