"""Stock-holds benchmark: reservations per second under 32 concurrent clients, on both databases.

Two measurements, each against a floor measured in the same run, on the same engine and the
same ``stock_levels`` rows:

1. **Service level.** ``C`` threads (32) each call :func:`reclaim.services.holds.place_hold`
   with a new unit of work from ``rt.uow()`` for every order: one transaction that reads the
   store's settings and the stock levels, plans the reservation, inserts the hold row
   (``ON CONFLICT DO NOTHING RETURNING id``), runs one conditional ``UPDATE`` per line (inside
   a savepoint when there are several) and commits. The **floor** is ``C`` threads that each run
   the same number of plain conditional UPDATEs, one per transaction, through the same engine
   (``UPDATE stock_levels SET reserved = reserved + 1 WHERE store_id = … AND warehouse = … AND
   sku = … AND on_hand - reserved >= 1``), on the first SKU row of the same orders.
2. **HTTP.** A real uvicorn server, in its own process, serves ``create_app(rt)`` plus one
   route that only this benchmark adds: ``POST /_bench/floor/{sku}``, which runs that same
   plain UPDATE in the threadpool (no authentication, no validation). A separate client
   process keeps ``C`` keep-alive connections busy with ``POST /api/v1/holds`` (a store API
   key, a JSON order) and with the floor route, in alternation. Reported against the HTTP
   floor and against the service-level figures.

Cases: ``hot`` (every order reserves one unit of the same SKU, with stock for all),
``spread`` (orders of 1-3 SKUs drawn from 1,000, stock for all) and ``sellout`` (one SKU,
stock for half the orders: exactly half must get 201 and half 409). Floor and real runs
alternate (floor, real, floor, real, ...) after a warm-up of each; medians are reported.
Before every run the holds are deleted and ``reserved`` set back to 0 (untimed); after every
run the database is audited: the sum of ``reserved`` equals the units of the holds that
succeeded, no row has ``reserved > on_hand``, the hold rows match the answers (201 =
active, 409 = short) and, for ``sellout``, exactly ``min(stock, orders)`` succeeded.

Numbers only, no pass/fail exit code (team rule: no timed assertions). Usage::

    .venv/bin/python -m bench.holds                    # both databases, all cases (~10 min)
    .venv/bin/python -m bench.holds --quick            # smoke run, under a minute
    .venv/bin/python -m bench.holds --db postgresql --cases spread --json out.json

PostgreSQL: ``--pg`` (or ``RECLAIM_BENCH_PG``) names a server database to connect to; the
benchmark creates its own database ``reclaim_bench_holds`` there and drops it at the end.

The package: :mod:`.stock` (the cases, their orders, the store, reset and audit),
:mod:`.runs` (results, the CPU meter), :mod:`.service` and :mod:`.http` (the two
measurements), :mod:`.report` and :mod:`.cli` (the arguments and ``main``); what it shares
with the other benchmarks is in :mod:`bench.harness`.
"""
