"""Console benchmark: each page's server time with 100,000 cases on SQLite and PostgreSQL,
beside a floor measured in the same run (the same page's main query alone).

The data is ``bench.reports``' store (cases over ten months with their events, reasons,
messages, coupons, checkouts, orders and shipments: :mod:`bench.reports.seed`), at
``--cases`` (100,000 by default), plus an admin user. Each page is asked for through the
application in-process (``create_app`` under Starlette's TestClient: routing, the session
and CSRF checks, the services, the template; no network), ``--requests`` times after a
warm-up; its floor, the one SQL statement that fetches what the page is mostly about, is
run as often on the same engine. Reported: p50 and p95 of each, the ratio of the p95s, and
the goal (p95 ≤ 300 ms). Numbers only, no pass/fail exit code (team rule: no timed
assertions). Usage::

    .venv/bin/python -m bench.console                # both databases, 100,000 cases
    .venv/bin/python -m bench.console --quick        # 10,000 cases, fewer requests
    .venv/bin/python -m bench.console --db sqlite --cases 200000 --json out.json

The package: :mod:`.pages` (the pages and their floors), :mod:`.cli` (``main``, the table).
"""
