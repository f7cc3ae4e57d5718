"""Real local servers for the channel tests: an aiosmtpd SMTP server and a tiny HTTP server.

Both run in a thread on 127.0.0.1 and record what they received; both can be told, reply
by reply, what to answer. The fixtures are in ``conftest.py``.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- SMTP ------------------------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    mail_options: list[str] = field(default_factory=list)


@dataclass
class SmtpRecorder:
    """An aiosmtpd handler: records messages and the connections they came on.

    ``mail_replies`` / ``rcpt_replies`` / ``data_replies`` are scripted answers, taken one per command; an entry
    ``(reply, True)`` closes the connection right after the reply is sent.
    """

    messages: list[Received] = field(default_factory=list)
    sessions: list[SMTP] = field(default_factory=list)
    mail_replies: list[tuple[str, bool]] = field(default_factory=list)
    rcpt_replies: list[tuple[str, bool]] = field(default_factory=list)
    data_replies: list[tuple[str, bool]] = field(default_factory=list)
    auth_mechanisms: list[str] = field(default_factory=list)

    @property
    def connections(self) -> int:
        """TCP connections that said EHLO (a STARTTLS upgrade is the same connection)."""
        return len({id(server) for server in self.sessions})

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: Any
    ) -> Any:
        self.sessions.append(server)
        session.host_name = hostname  # the hook replaces aiosmtpd's own bookkeeping
        return responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.mail_replies:
            return self._scripted(server, self.mail_replies.pop(0))
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.rcpt_replies:
            return self._scripted(server, self.rcpt_replies.pop(0))
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_replies:
            return self._scripted(server, self.data_replies.pop(0))
        assert isinstance(envelope.content, bytes)
        self.messages.append(
            Received(
                str(envelope.mail_from),
                list(envelope.rcpt_tos),
                envelope.content,
                list(envelope.mail_options),
            )
        )
        return f"250 2.0.0 Ok: queued as Q{len(self.messages)}"

    @staticmethod
    def _scripted(server: SMTP, entry: tuple[str, bool]) -> str:
        reply, close = entry
        if close:
            assert server.transport is not None
            # Runs once the reply is written (the handler task yields only after that).
            server.loop.call_soon(server.transport.close)
        return reply


class SmtpServer:
    """A threaded aiosmtpd server on 127.0.0.1 that can be restarted on the same port."""

    def __init__(self, handler: SmtpRecorder, **kwargs: Any) -> None:
        self.handler = handler
        self.kwargs = kwargs
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> SmtpServer:
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, ready_timeout=10, **self.kwargs
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        controller, self.controller = self.controller, None
        if controller is None:
            return
        # Close the clients' connections the way a stopping server process does.
        done = threading.Event()

        def close_all() -> None:
            for server in self.handler.sessions:
                if server.transport is not None:
                    server.transport.close()
            done.set()

        controller.loop.call_soon_threadsafe(close_all)
        done.wait(5)
        controller.stop()

    def restart(self) -> None:
        self.stop()
        self.start()

    def url(self, scheme: str = "smtp", *, userinfo: str = "", query: str = "") -> str:
        auth = f"{userinfo}@" if userinfo else ""
        return f"{scheme}://{auth}127.0.0.1:{self.port}" + (f"?{query}" if query else "")


@dataclass(frozen=True)
class Certificate:
    cert_path: Path
    key_path: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context


def password_authenticator(login: bytes, password: bytes, recorder: SmtpRecorder) -> Any:
    """An aiosmtpd ``authenticator`` accepting one login/password pair."""

    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        recorder.auth_mechanisms.append(mechanism)
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == login
            and auth_data.password == password
        )
        return AuthResult(success=ok, handled=False)

    return authenticate


# -- HTTP ------------------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client: tuple[str, int]


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    hang: bool = False  # wait (until the test ends) instead of answering

    @classmethod
    def json(cls, status: int, value: object) -> Reply:
        return cls(status=status, body=json.dumps(value).encode())


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that stops reading (the capped-answer test) resets the connection.
        pass


class HttpServer:
    """A threaded HTTP/1.1 server recording each request (GET, POST, PUT) and answering from
    a script."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.replies: list[Reply] = []
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self.do_POST()

            def do_PUT(self) -> None:
                self.do_POST()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                outer.requests.append(
                    Request(
                        self.command,
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                        self.client_address,
                    )
                )
                reply = outer.replies.pop(0) if outer.replies else Reply()
                if reply.hang:
                    outer.release.wait(10)
                    return
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def connections(self) -> int:
        return len({request.client for request in self.requests})

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
