"""What the benchmarks share, once: databases, the server process, the HTTP load generator,
the SMTP sink, CPU sampling, quantiles, the machine table and the command-line bits.

One module per concern; each benchmark package (:mod:`bench.ingest`, :mod:`bench.send`,
:mod:`bench.holds`) imports what it uses from here.
"""
