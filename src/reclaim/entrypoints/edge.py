"""The HTTP edge: what every request meets before a route (docs/security.md).

Reclaim faces the internet directly, so nothing a stranger sends may cost more than a bounded
amount of memory or time, and nothing they send may come back as a 500:

* :class:`BodyLimit` counts a body's bytes as they arrive, chunked or not, and answers 413
  as soon as a route's limit is passed (a ``Content-Length`` above it is refused unread);
* :class:`RateLimit` answers 429 with ``Retry-After`` past a limit per client address and per
  store or API key, using the ``limits`` library (memory, or a shared store for several
  processes); the client address comes from ``X-Forwarded-For`` only behind a trusted proxy;
* :class:`SecurityHeaders` adds ``nosniff`` to every answer and a strict CSP with
  ``frame-ancestors 'none'`` to every HTML page (HSTS when the public URL is https);
* :func:`read_json` turns a body into JSON values or an :class:`InvalidInput` naming what is
  wrong: no NaN or infinities, no lone surrogates, no NUL characters (PostgreSQL cannot store
  them, SQLite could: both databases behave the same), no nesting deeper than 64, no integer
  beyond 64 bits.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import orjson
from limits import RateLimitItem, parse, storage, strategies
from starlette.exceptions import HTTPException

from reclaim.config import Settings
from reclaim.errors import InvalidInput

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KIB = 1024
MIB = 1024 * KIB
# The largest body each path prefix takes, first match wins. Webhooks: Shopify's own limit
# for an order is far below 2 MiB; stock and products take up to 10,000 entries.
BODY_LIMITS: tuple[tuple[str, int], ...] = (
    ("/webhooks/", 2 * MIB),
    ("/api/v1/products", 8 * MIB),
    ("/api/v1/stock", 8 * MIB),
    ("/api/v1/", 2 * MIB),
)
DEFAULT_BODY_LIMIT = 64 * KIB  # tracking, unsubscribe, answers, anything else
MAX_DEPTH = 64
MAX_INT = 2**63 - 1


def body_limit(path: str) -> int:
    for prefix, limit in BODY_LIMITS:
        if path.startswith(prefix):
            return limit
    return DEFAULT_BODY_LIMIT


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"body larger than {limit} bytes")


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


async def _answer(
    send: Send, status: int, detail: str, headers: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    body = orjson.dumps({"detail": detail})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse bodies over the route's limit while they arrive (memory stays bounded), and
    addresses holding NUL (no id, SKU or token has one; PostgreSQL cannot look it up)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b"").lower():
            await _answer(send, 400, "the address holds a NUL character")
            return
        limit = body_limit(scope["path"])
        length = _header(scope, b"content-length")
        if length is not None:
            if not length.strip().isdigit():
                await _answer(send, 400, "Content-Length must be a number of bytes")
                return
            if int(length) > limit:
                await _answer(send, 413, f"body larger than {limit} bytes")
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


@dataclass(frozen=True, slots=True)
class Rule:
    """Which requests a limit applies to and what it counts them by."""

    name: str
    prefixes: tuple[str, ...]
    item: RateLimitItem


class RateLimit:
    """Count requests per client (and per store or key) and answer 429 past the limit."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.enabled = settings.rate_limit_enabled
        self.rules = (
            Rule("webhooks", ("/webhooks/",), parse(settings.rate_limit_webhooks)),
            Rule("api", ("/api/",), parse(settings.rate_limit_api)),
            Rule("public", ("/t/", "/u/", "/a/"), parse(settings.rate_limit_public)),
            Rule("login", ("/console/login",), parse(settings.rate_limit_login)),
        )
        self.proxies = tuple(
            ipaddress.ip_network(p.strip(), strict=False)
            for p in settings.trusted_proxies.split(",")
            if p.strip()
        )
        self.limiter = strategies.SlidingWindowCounterRateLimiter(
            storage.storage_from_string(settings.rate_limit_storage)
        )

    def client(self, scope: Scope) -> str:
        """The peer's address; behind a trusted proxy, the last address in X-Forwarded-For
        that is not itself a trusted proxy."""
        peer = (scope.get("client") or ("unknown", 0))[0]
        if not self.proxies or not self._trusted(peer):
            return str(peer)
        forwarded = _header(scope, b"x-forwarded-for")
        if forwarded is None:
            return str(peer)
        hops = [h.strip() for h in forwarded.decode("latin-1").split(",") if h.strip()]
        for hop in reversed(hops):
            if not self._trusted(hop):
                return hop[:64]
        return hops[0][:64] if hops else str(peer)

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.proxies)

    def keys(self, rule: Rule, scope: Scope) -> list[str]:
        keys = [f"{rule.name}:client:{self.client(scope)}"]
        if rule.name == "webhooks":
            parts = scope["path"].split("/")
            if len(parts) > 3:
                keys.append(f"webhooks:store:{parts[3][:64]}")
        elif rule.name == "api":
            token = _header(scope, b"authorization")
            if token:
                keys.append("api:key:" + hashlib.sha256(token).hexdigest()[:32])
        return keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.enabled or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        rule = next((r for r in self.rules if path.startswith(r.prefixes)), None)
        if rule is not None:
            for key in self.keys(rule, scope):
                if not self.limiter.hit(rule.item, key):
                    reset = self.limiter.get_window_stats(rule.item, key).reset_time
                    wait = max(1, math.ceil(reset - time.time()))
                    await _answer(
                        send,
                        429,
                        f"too many requests; try again in {wait} s",
                        ((b"retry-after", str(wait).encode()),),
                    )
                    return
        await self.app(scope, receive, send)


# default-src 'none' allows nothing that is not named: the pages use inline styles only.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# The console (/console): scripts only from its own static files (htmx, Chart.js, console.js;
# no inline script, no eval), its requests to itself, product images from the shops' own
# servers (https), message previews in frames of its own pages.
CONSOLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https:; connect-src 'self'; frame-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class SecurityHeaders:
    """``nosniff`` everywhere; CSP, no framing and no referrer on HTML pages; HSTS over TLS."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                names = {k.lower() for k, _ in headers}
                add = [(b"x-content-type-options", b"nosniff")]
                ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if ctype.startswith(b"text/html"):
                    console = scope["path"] == "/console" or scope["path"].startswith("/console/")
                    add += [
                        (b"content-security-policy", (CONSOLE_CSP if console else CSP).encode()),
                        (b"x-frame-options", b"DENY"),
                        (b"referrer-policy", b"no-referrer"),
                    ]
                if self.https:
                    add.append((b"strict-transport-security", b"max-age=31536000"))
                headers += [(k, v) for k, v in add if k not in names]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


# -- JSON bodies ---------------------------------------------------------------------------------


def read_json(body: bytes, *, what: str = "body") -> Any:
    """The JSON values of ``body``, or :class:`InvalidInput` saying what is wrong (and where)
    without repeating what was sent."""
    if not body.strip():
        raise InvalidInput(f"{what} is empty: send JSON")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"{what} is not valid JSON: {_why(str(exc))}") from None
    check_values(data)
    return data


def _why(message: str) -> str:
    """orjson's reason without the offending text (it may be anything the sender wrote)."""
    reason = message.split(":", 1)[0]
    if "depth" in reason:
        return f"nested deeper than {MAX_DEPTH} levels"
    if "infinity" in reason:
        return "a number is out of range"
    return reason[:80]


def check_values(data: Any, path: str = "") -> None:
    """Refuse what no store can keep: NUL characters, huge integers, deep nesting."""
    stack: list[tuple[Any, str, int]] = [(data, path, 0)]
    while stack:
        value, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InvalidInput(f"nested deeper than {MAX_DEPTH} levels", field=where or None)
        if isinstance(value, str):
            if "\x00" in value:
                raise InvalidInput(_at(where, "holds a NUL character"), field=where or None)
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int):
            if not -MAX_INT - 1 <= value <= MAX_INT:
                raise InvalidInput(_at(where, "is too large a number"), field=where or None)
        elif isinstance(value, float):
            if not math.isfinite(value) or abs(value) > MAX_INT:
                raise InvalidInput(_at(where, "is too large a number"), field=where or None)
        elif isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    raise InvalidInput(_at(where, "has a key with a NUL character"))
                stack.append((item, f"{where}.{key[:40]}" if where else key[:40], depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value))


def _at(where: str, message: str) -> str:
    return f"{where} {message}" if where else f"body {message}"
