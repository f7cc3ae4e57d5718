"""A real SMTP server (aiosmtpd) that keeps what it receives: the demo's and the simulator's
customers' mailboxes, and the end-to-end tests' and benchmarks' receiving side.

It can misbehave on purpose (:class:`Faults`): answer 421/451 at random, drop connections,
or refuse recipients with 550, so the fault tests run against real protocol failures. It
offers SMTPUTF8 (internationalised addresses, RFC 6531) unless made with ``smtputf8=False``,
like a relay that cannot carry them.
"""

from __future__ import annotations

import asyncio
import random
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, message_from_string, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True, slots=True)
class Received:
    sender: str
    recipients: tuple[str, ...]
    data: bytes

    def parsed(self) -> EmailMessage:
        if self.data.isascii():
            msg = message_from_bytes(self.data, policy=policy.default)
        else:  # RFC 6532 UTF-8 headers, which the stdlib's bytes parser leaves undecoded
            msg = message_from_string(self.data.decode("utf-8", "replace"), policy=policy.SMTPUTF8)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass(slots=True)
class Faults:
    """What share of commands fail, drawn from a seeded generator (reproducible runs)."""

    transient: float = 0.0  # answer 451 to RCPT or DATA
    disconnect: float = 0.0  # 421 and close the connection at MAIL FROM
    bounce: frozenset[str] = frozenset()  # recipients answered 550 5.1.1
    delay: float = 0.0  # seconds before answering DATA: a slow relay
    seed: int = 0
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        f = self.box.faults
        if f is not None and f.disconnect and f.rng.random() < f.disconnect:
            self.box.count("disconnect")
            server.transport.close()  # type: ignore[union-attr]
            return "421 4.3.2 closing connection"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        f = self.box.faults
        if f is not None:
            if address.lower() in f.bounce:
                self.box.count("bounce")
                return "550 5.1.1 no such user"
            if f.transient and f.rng.random() < f.transient:
                self.box.count("transient")
                return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        f = self.box.faults
        if f is not None and f.delay:
            await asyncio.sleep(f.delay)
        if f is not None and f.transient and f.rng.random() < f.transient:
            self.box.count("transient")
            return "451 4.3.0 try again later"
        data = envelope.original_content or b""
        self.box.add(
            Received(str(envelope.mail_from), tuple(str(r) for r in envelope.rcpt_tos), data)
        )
        return "250 2.0.0 queued"


class Mailbox:
    """Start with :meth:`start` (or as a context manager); ``url`` is its ``smtp://``."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        smtputf8: bool = True,
    ):
        self.host = host
        self.port = port or _free_port(host)
        self.faults = faults
        self.smtputf8 = smtputf8
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._counts: dict[str, int] = {}
        self._controller: Controller | None = None
        self.connections = 0

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> Mailbox:
        box = self

        class _Counting(SMTP):
            def connection_made(self, transport: Any) -> None:
                with box._lock:
                    box.connections += 1
                super().connection_made(transport)

        class _Controller(Controller):
            def factory(self) -> SMTP:
                return _Counting(self.handler, **self.SMTP_kwargs)

        self._controller = _Controller(
            _Handler(self),
            hostname=self.host,
            port=self.port,
            data_size_limit=10 * 1024 * 1024,
            decode_data=False,
            enable_SMTPUTF8=self.smtputf8,
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> Mailbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add(self, message: Received) -> None:
        with self._lock:
            self._received.append(message)

    def count(self, what: str) -> None:
        with self._lock:
            self._counts[what] = self._counts.get(what, 0) + 1

    @property
    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def take(self) -> list[Received]:
        """What arrived since the last ``take``."""
        with self._lock:
            got, self._received = self._received, []
            return got

    def to(self, address: str) -> list[Received]:
        return [m for m in self.received if address.lower() in (r.lower() for r in m.recipients)]


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@contextmanager
def mailbox(faults: Faults | None = None) -> Iterator[Mailbox]:
    box = Mailbox(faults=faults).start()
    try:
        yield box
    finally:
        box.stop()
