"""Fixtures shared by integration tests that send email: a real SMTP server and a Runtime on
the test's database whose clock stands at ``MONDAY`` (10:00 in Berlin: no quiet hours)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from helpers import MONDAY
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings
from reclaim.sim.mailbox import Mailbox


@pytest.fixture
def box() -> Iterator[Mailbox]:
    with Mailbox() as b:
        yield b


@pytest.fixture
def mail_rt(db_url: str, box: Mailbox) -> Iterator[Runtime]:
    settings = Settings(database_url=db_url, smtp_url=box.url, public_url="http://testserver")
    runtime = bootstrap(settings, clock=lambda: MONDAY)
    init_database(runtime)
    yield runtime
    runtime.close()
