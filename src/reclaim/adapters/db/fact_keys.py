"""The facts' country and device as SQL expressions, for the report's funnel by country or by
device (adapters/db/repos/reports.py): the same values as the Python that tags a case
(``reclaim.services.abandonment.country_of``, ``reclaim.domain.devices.device_of``), read in
the database so the grouping stays there."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, String, Table, func, literal, or_, type_coerce
from sqlalchemy import case as when

from reclaim.domain.devices import RULES

# device_of's rules (reclaim.domain.devices.RULES) in SQL, so that the funnel is grouped by
# device in the database. PostgreSQL matches the same regular expressions (``~*``; Python's
# ``\b`` is ``\y`` there). SQLite has none: each rule is GLOB patterns on the lower-cased
# agent that match the same agents: "tablet(?! pc)" spelled out as each way "tablet" can go
# on but " pc", "cros\b" as "cros" at the end or before a character that is not a word's.
# (Only non-ASCII letters right after "cros" are judged otherwise: SQLite lower-cases ASCII
# alone.) tests/integration/test_report_funnel_by.py holds both to device_of.
_SQLITE_GLOBS: tuple[tuple[str | None, tuple[str, ...]], ...] = (
    (
        None,
        (
            "*smarttv*",
            "*smart-tv*",
            "*googletv*",
            "*appletv*",
            "*hbbtv*",
            "*netcast*",
            "*viera*",
            "*crkey*",
            "*playstation*",
            "*xbox*",
            "*nintendo*",
        ),
    ),
    (
        "tablet",
        (
            "*ipad*",
            "*tablet",
            "*tablet[^ ]*",
            "*tablet ",
            "*tablet [^p]*",
            "*tablet p",
            "*tablet p[^c]*",
            "*kindle*",
            "*silk/*",
            "*playbook*",
        ),
    ),
    (
        "mobile",
        (
            "*mobi*",
            "*iphone*",
            "*ipod*",
            "*windows phone*",
            "*blackberry*",
            "*bb10*",
            "*opera mini*",
            "*webos*",
            "*symbian*",
        ),
    ),
    ("tablet", ("*android*",)),
    (
        "desktop",
        (
            "*windows nt*",
            "*macintosh*",
            "*mac os x*",
            "*x11*",
            "*linux*",
            "*cros",
            "*cros[^a-z0-9_]*",
        ),
    ),
)


def device_sql(agent: Any, postgres: bool) -> Any:
    """The device of a user agent column (NULL: none of the three), as device_of says."""
    if postgres:
        rules = [
            (agent.op("~*")(literal(pattern.pattern.replace("\\b", "\\y"))), device)
            for device, pattern in RULES
        ]
    else:
        lower = func.lower(agent)
        rules = [
            (or_(*(lower.op("GLOB")(literal(glob)) for glob in globs)), device)
            for device, globs in _SQLITE_GLOBS
        ]
    return when(*((cond, literal(device, String)) for cond, device in rules), else_=None)


def country_sql(table: Table) -> Any:
    """The contact's country (ingestion keeps two upper-case letters or none). Read from the
    JSON of each fact in the period: no index can hold it (a JSON extraction a row)."""
    code = type_coerce(table.c.contact, JSON)["country"].as_string()
    return when((func.length(code) == 2, func.upper(code)), else_=None)
