"""Issue 16: a log scan of a full simulated run finds none of the simulator's customers' email
addresses, phone numbers, first or last names or streets (docs/security.md).

A small simulation (real HTTP, the real worker, real emails to a real SMTP server, simulated
time) runs in this process with Reclaim's logging set up as ``reclaim serve`` and ``reclaim
worker`` set it up (:func:`reclaim.entrypoints.logs.setup_logging`), at DEBUG, every line
captured; then every customer's personal data is looked for in them. The lines of the
simulator's own SMTP server (aiosmtpd's ``mail.log`` logger, which at DEBUG echoes every
email it receives, greeting included) are left out: it stands in for the mail provider, and
its logs are not Reclaim's. Everything else is scanned: Reclaim's loggers, uvicorn's, and the
HTTP clients' (httpx, httpcore: the simulator's deliveries and Reclaim's platform API calls).
"""

from __future__ import annotations

import io
import logging
import re
import sys
from pathlib import Path

import pytest

from reclaim.entrypoints.logs import setup_logging
from reclaim.sim import SimConfig, simulate

pytestmark = pytest.mark.slow

MAILBOX = '"logger":"mail.log"'  # the simulator's SMTP server (the mail provider's side)
STREET = "1 Example Street"  # every simulated address's street (reclaim.sim.shopify, …)


def _personal(actor_values: list[tuple[str, str | None]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for what, value in actor_values:
        if value:
            found.setdefault(what, set()).add(value)
    return found


def test_a_simulated_run_logs_no_customer_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    captured = io.StringIO()
    monkeypatch.setattr(sys, "stderr", captured)  # setup_logging's handler writes here
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    setup_logging("DEBUG")
    try:
        result = simulate(
            SimConfig(customers=60, days=2, seed=5, holdout=0.2),
            database_url=f"sqlite:///{tmp_path / 'sim.sqlite3'}",
        )
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in before[0]:
            root.addHandler(handler)
        root.setLevel(before[1])
    kept = [line for line in captured.getvalue().splitlines() if MAILBOX not in line]
    logs = "\n".join(kept)
    lines = len(kept)
    assert lines > 0  # the capture works: the server, the worker and their clients spoke
    assert '"logger":"reclaim.' in logs
    assert result.summary["messages"]["total"] > 0 and result.summary["cases"]

    customers = [a for a in result.plan.actors if a.kind == "customer"]
    assert customers
    personal = _personal(
        [
            pair
            for a in customers
            for pair in (
                ("email", a.email),
                ("email", a.email.lower()),
                ("phone", a.phone),
                ("phone digits", re.sub(r"\D", "", a.phone or "") or None),
                ("first name", a.first_name),
                ("last name", a.last_name),
            )
        ]
        + [("street", STREET)]
    )
    found = {
        what: sorted(v for v in values if re.search(rf"(?<!\w){re.escape(v)}(?!\w)", logs))
        for what, values in personal.items()
    }
    assert {k: v for k, v in found.items() if v} == {}, f"in {lines} lines of logs"
