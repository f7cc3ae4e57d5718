"""The outgoing webhook channel (WhatsApp gateways, CRMs, chat) and its signature scheme.

A delivery is ``POST <url>`` with the payload as compact UTF-8 JSON and the headers

- ``Content-Type: application/json``
- ``X-Reclaim-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>``
- ``X-Reclaim-Delivery: <id>`` (the caller's id, or a fresh UUID): the same for a retry of
  the same delivery when the caller passes it again, so receivers can de-duplicate.

Receivers check it with :func:`verify_webhook_signature` (or the same few lines in their own
language); several ``v1=`` values may be given while a secret is rotated.

Error mapping (``DeliveryError.code`` is the HTTP status):

- 2xx → sent; ``provider_id`` is the ``id`` of a JSON object answer, if any;
- 408, 425, 429, 5xx, timeouts, connection errors → ``permanent=False``;
- 410 Gone → ``permanent=True, suppress=True``: the endpoint says it is gone for good; stop
  sending to it (the convention of Slack, Zapier and Stripe-style senders);
- other 4xx, and 3xx (redirects are not followed: re-posting a signed body to wherever a
  Location points is how a hijacked endpoint leaks it; configure the new URL instead)
  → ``permanent=True, suppress=False``.

Only ``http``/``https`` URLs without credentials are accepted (:func:`validate_webhook_url`).
The URL is the store owner's: this module does not judge which hosts it may reach.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from datetime import datetime
from decimal import Decimal
from types import TracebackType

import httpx
import orjson

from reclaim.domain.messages import OutgoingWebhook, SendResult
from reclaim.errors import DeliveryError, InvalidInput

SIGNATURE_HEADER = "X-Reclaim-Signature"
DELIVERY_HEADER = "X-Reclaim-Delivery"
MAX_URL = 2048
MAX_ANSWER = 64 * 1024  # bytes of the answer read (for its id); the rest is not read
_TRANSIENT = frozenset([408, 425, 429])
_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


def validate_webhook_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL with a host and no user:password part;
    raises ``InvalidInput(field="url")`` saying what is wrong."""
    if not isinstance(url, str) or not url:
        raise InvalidInput("the webhook URL is empty", field="url")
    if len(url) > MAX_URL:
        raise InvalidInput(f"the webhook URL is longer than {MAX_URL} characters", field="url")
    if _CONTROL.search(url):
        raise InvalidInput(
            "the webhook URL contains whitespace or a control character", field="url"
        )
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise InvalidInput(f"the webhook URL cannot be parsed: {exc}", field="url") from None
    if parsed.scheme not in ("http", "https"):
        raise InvalidInput(
            f"the webhook URL must be http:// or https://, not {parsed.scheme or 'relative'}",
            field="url",
        )
    if not parsed.host:
        raise InvalidInput("the webhook URL has no host", field="url")
    if parsed.userinfo:
        raise InvalidInput(
            "the webhook URL must not carry credentials (user:password@); the signature "
            "header authenticates the delivery",
            field="url",
        )
    return url


def encode_payload(payload: dict[str, object]) -> bytes:
    """The payload as compact UTF-8 JSON (``Decimal`` as a string, datetimes as RFC 3339)."""
    try:
        return orjson.dumps(payload, default=_json_default)
    except TypeError as exc:
        raise InvalidInput(f"the webhook payload is not JSON: {exc}", field="payload") from None


def sign_webhook(body: bytes, secret: str, *, now: datetime) -> str:
    """The ``X-Reclaim-Signature`` value for ``body`` sent at ``now``."""
    if not secret:
        raise InvalidInput("the webhook secret is empty", field="secret")
    if now.tzinfo is None:
        raise InvalidInput("the signing time must be timezone-aware", field="now")
    stamp = int(now.timestamp())
    return f"t={stamp},v1={_mac(secret, stamp, body)}"


def verify_webhook_signature(
    header: str, body: bytes, secret: str, *, now: datetime, tolerance: int = 300
) -> bool:
    """Whether ``header`` is a valid ``X-Reclaim-Signature`` for ``body`` at ``now``.

    False for a malformed header, a timestamp more than ``tolerance`` seconds from ``now``
    (either way: replays and clock skew), or no ``v1`` matching ``secret``. Never raises for
    what a sender put in the header; comparisons are constant-time.
    """
    if now.tzinfo is None:
        raise InvalidInput("the verification time must be timezone-aware", field="now")
    if not isinstance(header, str) or not secret:
        return False
    stamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            return False
        if key == "t":
            if stamp is not None or not value.isascii() or not value.isdigit() or len(value) > 12:
                return False
            stamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if stamp is None or not candidates or abs(now.timestamp() - stamp) > tolerance:
        return False
    expected = _mac(secret, stamp, body).encode("ascii")
    matched = False
    for candidate in candidates:
        # Check them all (no early exit), so timing says nothing about which one matched.
        matched |= hmac.compare_digest(expected, candidate.encode("utf-8", "replace"))
    return matched


class WebhookSender:
    """POSTs :class:`OutgoingWebhook` deliveries through one reused ``httpx.Client``.

    Thread-safe (httpx's client is). ``timeout`` covers connect, write and each read.
    """

    def __init__(self, *, timeout: float = 10.0, user_agent: str = "Reclaim-Webhook/1") -> None:
        self._client = httpx.Client(
            timeout=timeout, headers={"User-Agent": user_agent}, follow_redirects=False
        )

    def __enter__(self) -> WebhookSender:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def send(
        self, hook: OutgoingWebhook, *, now: datetime, delivery_id: str | None = None
    ) -> SendResult:
        """Deliver one webhook signed at ``now``; raises :class:`DeliveryError` (module doc).

        ``detail`` holds ``status`` and ``delivery_id``.
        """
        url = validate_webhook_url(hook.url)
        body = encode_payload(hook.payload)
        delivery = delivery_id or str(uuid.uuid4())
        if _CONTROL.search(delivery):
            raise InvalidInput("the delivery id contains whitespace", field="delivery_id")
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign_webhook(body, hook.secret, now=now),
            DELIVERY_HEADER: delivery,
        }
        try:
            with self._client.stream("POST", url, content=body, headers=headers) as response:
                answer = _read_capped(response)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook: {type(exc).__name__}: {exc}", permanent=False) from exc
        status = response.status_code
        if 200 <= status < 300:
            return SendResult(
                provider_id=_answer_id(answer),
                detail={"status": status, "delivery_id": delivery},
            )
        message = f"webhook: HTTP {status} from {response.url.host}"
        if status in _TRANSIENT or status >= 500:
            raise DeliveryError(message, permanent=False, code=status)
        raise DeliveryError(message, permanent=True, code=status, suppress=status == 410)

    def close(self) -> None:
        self._client.close()


def _mac(secret: str, stamp: int, body: bytes) -> str:
    return hmac.new(
        secret.encode("utf-8"), str(stamp).encode("ascii") + b"." + body, hashlib.sha256
    ).hexdigest()


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _read_capped(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_ANSWER:
            break
    return b"".join(chunks)[:MAX_ANSWER]


def _answer_id(answer: bytes) -> str | None:
    try:
        value = orjson.loads(answer)
    except ValueError:
        return None
    if isinstance(value, dict):
        ident = value.get("id")
        if isinstance(ident, str | int) and not isinstance(ident, bool):
            return str(ident)
    return None
