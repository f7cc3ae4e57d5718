"""Sending benchmark: personalised emails per second, lateness under a burst, claim cost.

Three measurements, each against something measured in the same run:

1. **Send throughput** — due ``abandoned_checkout/reminder`` steps of distinct customers (six
   template locales, their currencies and time zones, one to three items with images and
   tracked product links) are done by the real engine, :func:`reclaim.services.steps.
   run_due_steps` with the runtime's renderer, ``ChannelSenders`` over SMTP and the real
   database, in ``W`` threads (each with its own senders, i.e. its own SMTP connection), to
   an aiosmtpd sink in another process that only counts and discards. The **floor** is the
   same sink fed by ``smtplib`` over ``W`` connections with pre-built bytes: the messages the
   engine itself produced in its warm-up, byte for byte, cycled (``MAIL``, ``RCPT``, ``DATA``,
   as the engine's sender issues them). Floor and engine alternate (floor, engine, floor, …);
   reported: the medians and engine / floor (goal ≥ 50 %), CPU per message of each process,
   and for ``W`` = 1 the engine's milliseconds per message split into claim / prepare
   (database and policy) / render / compose / MIME / SMTP / record, from timers the benchmark
   wraps around the engine's own functions at run time (``src/`` is untouched).
2. **Lateness under a burst** — ``N`` steps (100k) all due at the same instant ``D``, done by
   ``W`` real workers (threads running :func:`reclaim.entrypoints.worker.run_forever`, whose
   ``now`` is the wall clock, polling every ``RECLAIM_WORKER_POLL_SECONDS``). Lateness of a
   message = its arrival at the sink − ``D``. Its **excess** = lateness − ``k / R`` where ``k``
   is its arrival rank (1 … N) and ``R`` the engine's throughput measured in part 1 for the
   same database and ``W``: the time it arrives after the moment an engine sending at ``R``
   from ``D`` on would have delivered it. Goal: p99 of the excess ≤ 2 s.
3. **Claim cost vs backlog** — one claim of a batch (100) of due steps, as ``run_due_steps``
   makes it, with 10k and then 1M future (not yet due) steps in the table, their cases
   included; goal: 1M / 10k ≤ 1.3 on the claim statement. The plans are printed
   (``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL, ``EXPLAIN QUERY PLAN`` on SQLite).

Numbers only, no pass/fail exit code (team rule: no timed assertions). Usage::

    .venv/bin/python -m bench.send                    # both databases, full size
    .venv/bin/python -m bench.send --quick            # smoke run, under a minute
    .venv/bin/python -m bench.send --db postgresql --skip-burst --json out.json

PostgreSQL: ``--pg`` (or ``RECLAIM_BENCH_PG``) names a server database to connect to; the
benchmark creates its own databases ``reclaim_bench_send*`` there and drops them at the end.

The package: :mod:`.shop` (the store, its flow, customers and carts) and :mod:`.seeding`,
:mod:`.throughput` with :mod:`.phases` (part 1), :mod:`.burst` (part 2), :mod:`.claims`
(part 3), :mod:`.report` and :mod:`.cli` (the arguments and ``main``); the SMTP sink and
what the benchmarks share are in :mod:`bench.harness`.
"""
