"""What browser tests share (the fixtures are in tests/browser/conftest.py): the live server's
handle and signing in through the form, as a person would."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console_support import PASSWORD, add_user
from reclaim.bootstrap import Runtime
from reclaim.domain.users import User


@dataclass
class Live:
    """The running console: its address, its runtime (to seed data) and the test's clock."""

    url: str
    rt: Runtime
    clock: Any

    def user(
        self, email: str, role: str = "admin", stores: tuple[str, ...] = (), **kw: Any
    ) -> User:
        return add_user(self.rt, email, role, stores, **kw)


def sign_in(page: Any, email: str, password: str = PASSWORD) -> None:
    """Through the sign-in form (English labels), waiting for the next page to load."""
    page.goto("/console/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
