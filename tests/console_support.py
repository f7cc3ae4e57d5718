"""Console tests' helpers: users made straight through the service (with a cheap argon2
profile, so a test that makes several users stays quick) and a TestClient signed in as one
of them, which sends its session's CSRF token with every form it posts."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from reclaim.adapters.passwords import Argon2Passwords
from reclaim.bootstrap import Runtime
from reclaim.domain.users import User
from reclaim.entrypoints.api import create_app
from reclaim.services import users as user_service

PASSWORD = "correct horse battery staple"
FAST = Argon2Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def add_user(
    rt: Runtime,
    email: str = "ops@example.com",
    role: str = "admin",
    stores: Sequence[str] = (),
    *,
    password: str = PASSWORD,
    locale: str = "en",
    timezone: str = "UTC",
) -> User:
    rt.passwords = FAST
    return user_service.add_user(
        uow=rt.uow(),
        hasher=rt.passwords,
        email=email,
        password=password,
        role=role,
        stores=stores,
        locale=locale,
        timezone=timezone,
        now=rt.clock(),
    )


class ConsoleClient(TestClient):
    """A TestClient with a session: ``csrf`` is its token; :meth:`form` posts with it."""

    csrf: str = ""

    def form(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        body = {"csrf": self.csrf, **(data or {})}
        kw.setdefault("follow_redirects", False)
        return self.post(url, data=body, **kw)


def login_csrf(c: TestClient) -> str:
    found = _CSRF.search(c.get("/console/login").text)
    assert found, "the sign-in form has no CSRF field"
    return found.group(1)


def sign_in(rt: Runtime, email: str = "ops@example.com", password: str = PASSWORD) -> ConsoleClient:
    """A client signed in as ``email`` (who must exist)."""
    c = ConsoleClient(create_app(rt), base_url="http://127.0.0.1:8000")
    answer = c.post(
        "/console/login",
        data={"email": email, "password": password, "csrf": login_csrf(c)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:500]
    token = c.cookies.get("reclaim_session")
    assert token, "signing in set no session cookie"
    with rt.reader() as uow:  # the session's CSRF token, as every page of theirs carries it
        session = uow.users.session(user_service.token_digest(token))
    assert session is not None
    c.csrf = session.csrf
    return c


def console_as(
    rt: Runtime,
    role: str = "admin",
    stores: Sequence[str] = (),
    email: str | None = None,
    **kw: Any,
) -> ConsoleClient:
    """A new user with ``role`` (and ``stores``), signed in."""
    address = email or f"{role}@example.com"
    add_user(rt, address, role, stores, **kw)
    return sign_in(rt, address)
