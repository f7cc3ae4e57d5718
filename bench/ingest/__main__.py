"""``python -m bench.ingest``: see :mod:`bench.ingest`."""

from bench.ingest.cli import main

if __name__ == "__main__":
    main()
