"""The benchmark server: the real app plus one floor route, under uvicorn in its own process.

Each HTTP benchmark adds a route that only it has, ``POST /_bench/floor/…``, which does the
least work the same server can do for the same request; :func:`running` starts the server
(spawned), waits until it is ready and stops it at the end.
"""

from __future__ import annotations

import multiprocessing as mp
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from reclaim.bootstrap import bootstrap
from reclaim.config import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(base: str, proc: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.is_alive():
            raise RuntimeError("the benchmark server exited during start-up")
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the benchmark server did not become ready")


def serve(url: str, port: int, add_floor: Callable[..., None], *floor_args: Any) -> None:
    """Entry point of the server process (spawned): the real app plus the floor route, which
    ``add_floor(app, rt, *floor_args)`` adds."""
    import logging

    import uvicorn

    from reclaim.entrypoints.api import create_app

    logging.basicConfig(level=logging.WARNING)
    rt = bootstrap(Settings(database_url=url, rate_limit_enabled=False))
    app = create_app(rt)
    add_floor(app, rt, *floor_args)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@dataclass(frozen=True, slots=True)
class Server:
    proc: Any  # the spawned process
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def running(
    url: str, add_floor: Callable[..., None], *floor_args: Any, ready_timeout: float = 60
) -> Iterator[Server]:
    """The server on ``url``'s database, from ready until the block ends (then terminated)."""
    ctx = mp.get_context("spawn")
    port = free_port()
    server = ctx.Process(target=serve, args=(url, port, add_floor, *floor_args), daemon=True)
    server.start()
    try:
        wait_ready(f"http://127.0.0.1:{port}", server, timeout=ready_timeout)
        yield Server(server, port)
    finally:
        server.terminate()
        server.join(10)
        if server.is_alive():
            server.kill()
