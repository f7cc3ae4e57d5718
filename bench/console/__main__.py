"""``python -m bench.console``: see :mod:`bench.console`."""

from bench.console.cli import main

if __name__ == "__main__":
    main()
