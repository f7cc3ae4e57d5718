"""Ingestion benchmark: webhooks accepted over HTTP, and events processed from the inbox.

Two measurements, each against something measured in the same run:

1. **HTTP accept** — a real uvicorn server (a separate process) serves ``create_app(rt)`` plus
   one route of this benchmark, ``POST /_bench/floor/{store_id}``, that only inserts the raw
   body into the same ``inbox`` table through the same engine and unit of work (one INSERT,
   one COMMIT, in the threadpool like the real handler). A separate client process (``C``
   concurrent keep-alive connections; a minimal asyncio HTTP/1.1 client by default, because
   on a 2-core box httpx costs more CPU per request than the floor does; ``--client httpx``
   to compare) posts signed Shopify ``checkouts/update`` webhooks, every one a new delivery,
   to the floor and to the real webhook route in alternation (floor, real, floor, real, …),
   after a warm-up of each. Reported: the median deliveries/s of each and the ratio
   real / floor (goal: at least 70 %).
2. **Processing** — with 10k and then 1M cases (and their checkouts and orders) already stored,
   fresh Shopify deliveries touching new and existing customers are accepted into the inbox
   and processed with :func:`reclaim.services.ingest.process_inbox`, then the cases they make
   due are opened with :func:`reclaim.services.detection.detect_due`. Reported: µs per event,
   µs per case opened, and the ratio of the largest store to the smallest (goal: about 1.0,
   the cost per event stays flat).

Numbers only, no pass/fail exit code: this prints figures and ratios (team rule: no timed
assertions). Usage::

    .venv/bin/python -m bench.ingest                       # both databases, 10k and 1M
                                                           # (~25 min on a 2-core box)
    .venv/bin/python -m bench.ingest --quick               # smoke run, well under a minute
    .venv/bin/python -m bench.ingest --db sqlite --requests 3000 --concurrency 32

PostgreSQL: ``--pg`` (or ``RECLAIM_BENCH_PG``) names a server database to connect to; the
benchmark creates its own databases ``reclaim_bench_*`` there and drops them at the end.

The package: :mod:`.customers` and :mod:`.payloads` (the Shopify workload), :mod:`.http`
(part 1), :mod:`.seeding` and :mod:`.processing` (part 2), :mod:`.report` and :mod:`.cli`
(the arguments and ``main``); what it shares with the other benchmarks is in
:mod:`bench.harness`.
"""
