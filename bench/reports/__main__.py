"""``python -m bench.reports``: see :mod:`bench.reports`."""

from bench.reports.cli import main

if __name__ == "__main__":
    main()
