"""Monthly-report benchmark: one store's month out of 1,000,000 cases and 5,000,000 case
events, on both databases, beside a floor measured in the same run.

The store (time zone Europe/Paris, currency EUR with USD and GBP converted at set rates) has
cases spread evenly over ten months (February to November 2026): 70 % abandoned checkouts,
20 % pending orders, 10 % failed payments; a 10 % holdout, 2 % with no flow; 18 % of the
messaged and 10 % of the held-out cases recovered; five events a case, one or two inferred
reasons a case and a customer's answer on 3 %, one or two messages a messaged case, a coupon
on 5 %; and the facts the funnel reads in a store's proportions: as many checkouts as cases
(60 % with a customer), 0.4 orders a case (85 % paid), shipments for 0.3 (90 % delivered).
Rows are made by the database itself (``generate_series`` on PostgreSQL, a recursive CTE on
SQLite: ``INSERT … SELECT``, one transaction), then settled (:func:`bench.harness.db.settle`).

Measured, each run in a fresh Python process (so its peak RSS, ``ru_maxrss``, is its own):

* **report**: :func:`reclaim.services.reports.build_report` for ``--period 2026-11`` and its
  JSON (:func:`~reclaim.services.reports.report_json`, ``json.dumps``): what
  ``reclaim report --format json`` runs;
* **floor**: one scan of the cases table with the same filter (store and period):
  ``SELECT count(*), sum(value) FROM cases WHERE store_id = ? AND created_at >= ? AND
  created_at < ?``.
* **7 tables**: one scan of each table the report must read, with the period's filter
  (:func:`.measure.tables`: ``count(*)`` of the period's cases, of the reasons, messages and
  coupons of their range of ids, of the period's checkouts and orders, and of those orders'
  shipments).

A warm-up of each, then ``--rounds`` of floor, 7 tables and report in alternation; medians
are reported against the goals (≤ 10 s, ≤ 500 MB, ≤ 3 × the floor), with the ratio to both
floors. Numbers only, no pass/fail exit code (team rule: no timed assertions). Usage::

    .venv/bin/python -m bench.reports                 # both databases, full size
    .venv/bin/python -m bench.reports --quick         # 1/20 of it: 50,000 cases
    .venv/bin/python -m bench.reports --db sqlite --cases 200000 --json out.json

PostgreSQL: ``--pg`` (or ``RECLAIM_BENCH_PG``) names a server database to connect to; the
benchmark creates its own database ``reclaim_bench_reports`` there and drops it at the end.

The package: :mod:`.seed` (the store and its rows), :mod:`.measure` (one run, in its own
process), :mod:`.cli` (the arguments, ``main`` and the table).
"""
