"""The SMTP sink: aiosmtpd in its own process, counting and discarding what it receives.

It notes each message's arrival time and ``X-Reclaim-Message`` id, can keep a few messages
(the floor's bytes) and answers commands over a pipe (:class:`SinkProcess`).
"""

from __future__ import annotations

import multiprocessing as mp
import socket
import threading
import time
from contextlib import suppress
from typing import Any

from bench.harness.server import free_port


def sink_main(host: str, port: int, pipe: Any, reply_ms: float = 0.0) -> None:
    """Entry point of the sink process: aiosmtpd that notes each message's arrival and
    ``X-Reclaim-Message`` id, then drops it; commands come over ``pipe``. ``reply_ms``: each
    reply waits that long first, as a relay across a network would (``--relay-ms``)."""
    import asyncio

    from aiosmtpd.smtp import SMTP

    class Sink:
        def __init__(self) -> None:
            self.times: list[float] = []
            self.ids: list[int] = []
            self.bytes = 0
            self.connections = 0
            self.keep = 0
            self.kept: list[tuple[str, str, bytes]] = []

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            data = envelope.original_content or b""
            self.times.append(time.time())
            at = data.find(b"\nX-Reclaim-Message: ")
            self.ids.append(int(data[at + 20 : data.index(b"\r", at + 20)]) if at >= 0 else -1)
            self.bytes += len(data)
            if self.keep:
                self.keep -= 1
                self.kept.append((envelope.mail_from, envelope.rcpt_tos[0], data))
            return "250 2.0.0 Ok: queued"

    class BulkSMTP(SMTP):
        """aiosmtpd, but ``DATA`` read in bulk: its own reader takes a message line by line
        (one ``readuntil`` per line, ~1.5 ms of CPU for a 9 kB email here, as much as the
        floor's client spends), which would make the sink the floor's bottleneck. Fine for
        clients that wait for each reply (smtplib, the engine's sender): no pipelining."""

        async def push(self, status: Any) -> None:
            if reply_ms:
                await asyncio.sleep(reply_ms / 1000)
            await super().push(status)

        async def smtp_DATA(self, arg: str) -> None:
            if await self.check_helo_needed():
                return
            assert self.envelope is not None
            if not self.envelope.rcpt_tos or arg:
                await self.push("503 Error: need RCPT command" if not arg else "501 Syntax: DATA")
                return
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            buf = bytearray()
            while not (buf.endswith(b"\r\n.\r\n") or buf == b".\r\n"):
                chunk = await self._reader.read(1 << 16)
                if not chunk:
                    return  # the connection is gone
                buf += chunk
            data = bytes(buf[:-3]).replace(b"\r\n..", b"\r\n.")  # RFC 5321 4.5.2
            if data.startswith(b".."):
                data = data[1:]
            self.envelope.content = self.envelope.original_content = data
            status = await self._call_handler_hook("DATA")
            self._set_post_data_state()
            await self.push(status)

    sink = Sink()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory() -> SMTP:
        sink.connections += 1
        return BulkSMTP(sink, hostname="sink.bench", ident="bench sink", decode_data=False)

    server = loop.run_until_complete(loop.create_server(factory, host, port))

    async def command(cmd: str, arg: Any) -> Any:
        if cmd == "count":
            return len(sink.times)
        if cmd == "take":  # in the loop's thread: no message lands in between
            out = (sink.times, sink.ids, sink.bytes, sink.connections)
            sink.times, sink.ids, sink.bytes, sink.connections = [], [], 0, 0
            return out
        if cmd == "keep":
            sink.keep, sink.kept = int(arg), []
            return None
        if cmd == "kept":
            return sink.kept
        if cmd == "stop":
            server.close()
            loop.call_soon(loop.stop)
            return None
        raise ValueError(cmd)

    def serve_pipe() -> None:
        while True:
            cmd, arg = pipe.recv()
            pipe.send(asyncio.run_coroutine_threadsafe(command(cmd, arg), loop).result())
            if cmd == "stop":
                return

    threading.Thread(target=serve_pipe, daemon=True).start()
    loop.run_forever()


class SinkProcess:
    """The sink, started in a spawned process; ``call`` is for the main thread only."""

    def __init__(self, reply_ms: float = 0.0) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        ctx = mp.get_context("spawn")
        self._pipe, child = ctx.Pipe()
        self.proc = ctx.Process(
            target=sink_main, args=(self.host, self.port, child, reply_ms), daemon=True
        )
        self.proc.start()
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection((self.host, self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or not self.proc.is_alive():
                    raise RuntimeError("the SMTP sink did not start") from None
                time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def call(self, cmd: str, arg: Any = None) -> Any:
        self._pipe.send((cmd, arg))
        return self._pipe.recv()

    def take(self) -> tuple[list[float], list[int], int, int]:
        return self.call("take")  # type: ignore[no-any-return]

    def stop(self) -> None:
        with suppress(OSError, EOFError):
            self.call("stop")
        self.proc.join(10)
        if self.proc.is_alive():
            self.proc.kill()
