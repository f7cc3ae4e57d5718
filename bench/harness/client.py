"""The HTTP load generators: a minimal asyncio HTTP/1.1 client, and httpx to compare.

Both keep ``concurrency`` keep-alive connections busy with requests prepared before the clock
starts, and count the answers in a :class:`Tally`.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx
import orjson


class Tally:
    """What one load run saw: answers by kind, latencies, the first failures."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.statuses: Counter[str] = Counter()
        self.failures: list[str] = []

    def answer(self, started: float, code: int, data: bytes) -> None:
        self.latencies.append(time.perf_counter() - started)
        answer = orjson.loads(data).get("status") if 200 <= code < 300 else None
        if answer == "accepted":
            self.statuses["accepted"] += 1
        else:
            self.statuses[f"{code} {answer or ''}".strip()] += 1
            if len(self.failures) < 3:
                self.failures.append(f"{code} {data[:160].decode(errors='replace')}")

    def error(self, exc: Exception) -> None:
        self.statuses[type(exc).__name__] += 1
        if len(self.failures) < 3:
            self.failures.append(f"{type(exc).__name__}: {exc}")


async def raw_load(
    host: str, port: int, requests: list[bytes], concurrency: int, tally: Tally
) -> float:
    """HTTP/1.1 keep-alive over asyncio streams, one connection per request in flight.

    A load generator that leaves the CPU to the server: on a 2-core box httpx itself costs
    more CPU per request than the floor endpoint does (see ``--client httpx``).
    """
    conns = [await asyncio.open_connection(host, port) for _ in range(concurrency)]
    cursor = 0

    async def worker(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        nonlocal cursor
        reader, writer = conn
        while cursor < len(requests):
            k = cursor
            cursor += 1
            started = time.perf_counter()
            try:
                writer.write(requests[k])
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                code, length, close = int(lines[0].split()[1]), 0, False
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"connection":
                        close = value.strip().lower() == b"close"
                data = await reader.readexactly(length)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                tally.error(exc)
                close = True
            else:
                tally.answer(started, code, data)
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
        writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    return time.perf_counter() - t0


async def httpx_load(
    base: str,
    path: str,
    deliveries: list[tuple[bytes, dict[str, str]]],
    concurrency: int,
    tally: Tally,
) -> float:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120.0) as client:
        # open the keep-alive connections first, outside the timing
        await asyncio.gather(*(client.get("/healthz") for _ in range(concurrency)))
        cursor = 0

        async def worker() -> None:
            nonlocal cursor
            while cursor < len(deliveries):
                k = cursor
                cursor += 1
                body, headers = deliveries[k]
                started = time.perf_counter()
                try:
                    r = await client.post(path, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    tally.error(exc)
                else:
                    tally.answer(started, r.status_code, r.content)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - t0
