"""``python -m bench.send``: see :mod:`bench.send`."""

from bench.send.cli import main

if __name__ == "__main__":
    main()
