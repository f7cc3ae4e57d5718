"""Signing in to the console over HTTP on SQLite and PostgreSQL (issue 13, SPEC S11): the
session cookie's flags, the sign-in form's own CSRF check, per-account throttling, no
redirect off the console, pages that need a session, a disabled user's session, the
console's headers and its vendored scripts."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from console_support import PASSWORD, add_user, login_csrf, sign_in
from reclaim.bootstrap import Runtime
from reclaim.entrypoints.api import create_app
from reclaim.services import users as user_service


def _client(rt: Runtime, base: str = "http://127.0.0.1:8000") -> TestClient:
    return TestClient(create_app(rt), base_url=base)


def _login(c: TestClient, email: str, password: str, **extra: str) -> object:
    data = {"email": email, "password": password, "csrf": login_csrf(c), **extra}
    return c.post("/console/login", data=data, follow_redirects=False)


def test_a_page_without_a_session_sends_to_the_sign_in_form(rt: Runtime) -> None:
    c = _client(rt)
    answer = c.get("/console?store=st_1", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/login?next=%2Fconsole%3Fstore%3Dst_1"
    htmx = c.get("/console", headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.status_code == 401 and htmx.headers["hx-redirect"].startswith("/console/login")
    c.cookies.set("reclaim_session", "made-up-token", path="/console")
    assert c.get("/console", follow_redirects=False).status_code == 303


def test_sign_in_sets_a_safe_cookie_and_goes_where_it_was_asked(rt: Runtime) -> None:
    add_user(rt, "ops@example.com")
    c = _client(rt)
    answer = _login(c, "OPS@example.com ", PASSWORD, next="/console/queue?kind=pending_order")
    assert answer.status_code == 303  # type: ignore[attr-defined]
    assert answer.headers["location"] == "/console/queue?kind=pending_order"  # type: ignore[attr-defined]
    cookie = answer.headers["set-cookie"]  # type: ignore[attr-defined]
    assert "reclaim_session=" in cookie and "HttpOnly" in cookie
    assert "SameSite=lax" in cookie and "Path=/console" in cookie and "Secure" not in cookie
    for elsewhere in ("https://evil.example/console", "//evil.example/x", "/api/v1/cases"):
        c2 = _client(rt)
        gone = _login(c2, "ops@example.com", PASSWORD, next=elsewhere)
        assert gone.headers["location"] == "/console"  # type: ignore[attr-defined]


def test_the_cookie_is_secure_behind_tls(rt: Runtime) -> None:
    add_user(rt, "ops@example.com")
    rt.settings.public_url = "https://reclaim.shop.example"
    answer = _login(_client(rt, "https://reclaim.shop.example"), "ops@example.com", PASSWORD)
    assert "Secure" in answer.headers["set-cookie"]  # type: ignore[attr-defined]


def test_the_sign_in_form_needs_its_own_token(rt: Runtime) -> None:
    add_user(rt, "ops@example.com")
    c = _client(rt)
    answer = c.post(
        "/console/login",
        data={"email": "ops@example.com", "password": PASSWORD, "csrf": "guessed"},
        follow_redirects=False,
    )
    assert answer.status_code == 403 and "The form had expired" in answer.text
    assert "reclaim_session" not in answer.headers.get("set-cookie", "")


def test_five_failures_lock_an_account_for_a_quarter_hour_whatever_the_password(
    rt: Runtime,
) -> None:
    add_user(rt, "locked@example.com")
    add_user(rt, "other@example.com")
    rt.settings.rate_limit_enabled = False  # the edge's per-address limit: another test's
    c = _client(rt)
    for _ in range(5):
        assert _login(c, "locked@example.com", "not the password").status_code == 401  # type: ignore[attr-defined]
    refused = _login(c, "locked@example.com", PASSWORD)
    assert refused.status_code == 429  # type: ignore[attr-defined]
    assert "Too many failed attempts" in refused.text  # type: ignore[attr-defined]
    assert _login(c, "other@example.com", PASSWORD).status_code == 303  # type: ignore[attr-defined]


def test_a_wrong_password_in_chinese(rt: Runtime) -> None:
    add_user(rt, "ops@example.com")
    c = _client(rt)
    c.get("/console/login?lang=zh-CN")
    answer = _login(c, "ops@example.com", "not the password")
    assert answer.status_code == 401  # type: ignore[attr-defined]
    assert "邮箱或密码错误。" in answer.text  # type: ignore[attr-defined]
    assert '<html lang="zh-CN">' in answer.text  # type: ignore[attr-defined]


def test_a_disabled_users_session_stops_working(rt: Runtime) -> None:
    add_user(rt, "ops@example.com")
    c = sign_in(rt, "ops@example.com")
    assert c.get("/console", follow_redirects=False).headers["location"] != "/console/login"
    user_service.update_user(
        uow=rt.uow(), hasher=rt.passwords, email="ops@example.com", disabled=True, now=rt.clock()
    )
    answer = c.get("/console", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/console/login")


def test_console_pages_carry_a_strict_csp_and_the_vendored_scripts_are_served(
    rt: Runtime,
) -> None:
    c = _client(rt)
    page = c.get("/console/login")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-eval" not in csp and page.headers["x-frame-options"] == "DENY"
    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    assert "/console/static/vendor/htmx.min.js" in scripts
    assert "<script>" not in page.text  # nothing inline for the CSP to refuse
    for path in [*scripts, "/console/static/vendor/chart.umd.min.js", "/console/static/console.css"]:
        served = c.get(path)
        assert served.status_code == 200 and len(served.content) > 1000, path
    assert "Chart.js v4" in c.get("/console/static/vendor/chart.umd.min.js").text[:200]
    assert c.get("/console/static/vendor/htmx.LICENSE").status_code == 200


def test_a_change_without_a_session_is_refused_not_redirected(rt: Runtime) -> None:
    c = _client(rt)
    answer = c.post("/console/locale", data={"locale": "zh-CN"}, follow_redirects=False)
    assert answer.status_code == 401
    assert "Your session has ended, so nothing was changed" in answer.text
    htmx = c.post("/console/locale", headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.status_code == 401 and htmx.headers["hx-redirect"].startswith("/console/login")
