"""``python -m bench.holds``: see :mod:`bench.holds`."""

from bench.holds.cli import main

if __name__ == "__main__":
    main()
