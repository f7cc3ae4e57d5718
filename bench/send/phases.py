"""Where an engine message's time goes: timers around the engine's own functions, cProfile.

The timers are set at run time, in this process only (``src/`` is untouched), and taken off
at the end; exclusive times per phase are derived afterwards.
"""

from __future__ import annotations

import cProfile
import functools
import io
import pstats
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench.harness.machine import REPO_ROOT
from reclaim.services import steps as delivery
from reclaim.services.steps import compose as compose_room
from reclaim.services.steps import send as send_room

PHASES = (
    ("claim", "claim: the UPDATE … RETURNING"),
    ("claim_tx", "claim: its transaction, the loop (the rest)"),
    ("prepare_db", "prepare: database, policy checks, message row"),
    ("compose", "prepare: context, tracked links"),
    ("render", "prepare: render (subject, text, HTML)"),
    ("mime", "send: MIME build"),
    ("smtp", "send: SMTP MAIL/RCPT/DATA"),
    ("handover", "send: the one-row commit before each message"),
    ("record", "record: result, event, next step"),
)


@contextmanager
def phase_timers(acc: dict[str, float]) -> Iterator[None]:
    """Wrap the engine's own functions with timers, in this process only (``src/`` untouched);
    exclusive times per phase are derived in :func:`phase_split`."""
    import reclaim.adapters.channels.email as email_channel
    from reclaim.adapters.db.repos.messages import SqlMessages
    from reclaim.adapters.db.repos.steps import SqlSteps
    from reclaim.adapters.templates.renderer import TemplateRenderer

    targets = [
        (SqlSteps, "claim", "claim"),
        (delivery, "release_expired", "release"),
        (delivery, "_prepare", "prepare"),
        (compose_room, "_compose", "compose"),
        (TemplateRenderer, "render", "render"),
        (send_room, "_send", "send"),
        (email_channel, "build_mime", "mime"),
        (SqlMessages, "hand_over", "handover"),
        (delivery, "_record", "record"),
    ]
    saved = [(obj, name, getattr(obj, name)) for obj, name, _ in targets]

    def timed(key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                acc[key] = acc.get(key, 0.0) + time.perf_counter() - t

        return wrapper

    for obj, name, key in targets:
        setattr(obj, name, timed(key, getattr(obj, name)))
    try:
        yield
    finally:
        for obj, name, fn in saved:
            setattr(obj, name, fn)


def phase_split(acc: dict[str, float], elapsed: float, n: int) -> dict[str, float]:
    """Milliseconds per message of each phase, exclusive (a phase's inner phases taken out)."""
    ms = {k: 1000 * v / n for k, v in acc.items()}
    total = 1000 * elapsed / n
    out = {
        "claim": ms.get("claim", 0.0),
        "prepare_db": ms.get("prepare", 0.0) - ms.get("compose", 0.0),
        "compose": ms.get("compose", 0.0) - ms.get("render", 0.0),
        "render": ms.get("render", 0.0),
        "mime": ms.get("mime", 0.0),
        "smtp": ms.get("send", 0.0) - ms.get("mime", 0.0),
        "handover": ms.get("handover", 0.0),
        "record": ms.get("record", 0.0),
    }
    inside = sum(ms.get(k, 0.0) for k in ("prepare", "send", "handover", "record"))
    out["claim_tx"] = total - inside - out["claim"]
    out["total"] = total
    return out


def profile_top(prof: cProfile.Profile, limit: int = 22) -> list[str]:
    """The engine's and the libraries' biggest entries by cumulative time."""
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf).sort_stats("cumulative")
    stats.print_stats(r"reclaim/|email/|smtplib|jinja2/environment|sqlalchemy/orm/session", limit)
    lines = [ln for ln in buf.getvalue().splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
    root = str(REPO_ROOT) + "/"
    return [ln.replace(root, "").replace(sys.prefix + "/", "") for ln in lines[start:]]
