"""The demo Stripe store's API, simulated: what Reclaim calls to create its coupons there.

A real HTTP server on loopback answering the calls :mod:`reclaim.adapters.platforms.actions`
makes, the way Stripe answers them: ``POST /v1/coupons``, ``POST /v1/promotion_codes`` (codes
of letters and digits only, one active code of a kind, a repeated ``Idempotency-Key`` answered
as the first time) and ``GET /v1/promotion_codes?code=…``, each needing the store's key. The
storefront asks it which promotion code a typed code is (:meth:`StripeApi.discounts`), so a
completed Checkout Session names it by id as Stripe does, and Reclaim can only tell its own
coupon was redeemed because it created it there.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_CODE = re.compile(r"^[A-Za-z0-9]{1,500}$")


class StripeApi:
    def __init__(self, token: str) -> None:
        self.token = token
        self.calls = 0
        self._lock = threading.Lock()
        self._promos: dict[str, dict[str, Any]] = {}  # code (upper case) -> promotion code
        self._replies: dict[str, tuple[int, dict[str, Any]]] = {}  # Idempotency-Key -> reply
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._answer(*api._handle("GET", self.path, {}, dict(self.headers)))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                self._answer(*api._handle("POST", self.path, form, dict(self.headers)))

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> StripeApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def promotion_codes(self) -> int:
        return len(self._promos)

    def discounts(self, codes: tuple[str, ...]) -> list[dict[str, Any]]:
        """What a Checkout Session's ``discounts`` says of the codes a customer entered: the
        promotion codes this Stripe has (a code it does not have is refused at checkout)."""
        with self._lock:
            found = [self._promos.get(code.replace("-", "").upper()) for code in codes]
        return [{"coupon": p["coupon"]["id"], "promotion_code": p["id"]} for p in found if p]

    # -- the API ---------------------------------------------------------------------------

    def _handle(
        self, method: str, target: str, form: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.calls += 1
            wanted = {k.lower(): v for k, v in headers.items()}
            if wanted.get("authorization") != f"Bearer {self.token}":
                return 401, _error("invalid_request_error", None, "Invalid API Key provided")
            key = wanted.get("idempotency-key")
            if key is not None and key in self._replies:
                return self._replies[key]
            path = urlsplit(target).path
            reply = self._route(method, path, form, parse_qs(urlsplit(target).query))
            if key is not None and reply[0] < 500:
                self._replies[key] = reply
            return reply

    def _route(
        self, method: str, path: str, form: dict[str, str], query: dict[str, list[str]]
    ) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path == "/v1/coupons":
            made = {"id": "co_" + _tag(json.dumps(form, sort_keys=True)), "object": "coupon"}
            return 200, made | {k: v for k, v in form.items() if "[" not in k}
        if method == "POST" and path == "/v1/promotion_codes":
            code = form.get("code", "")
            if not _CODE.match(code):
                return 400, _error(
                    "invalid_request_error", "parameter_invalid_string", "Invalid code"
                )
            if code.upper() in self._promos:
                return 400, _error(
                    "invalid_request_error",
                    "resource_already_exists",
                    f"An active promotion code with `code: {code}` already exists.",
                )
            promo = {
                "id": "promo_" + _tag(code),
                "object": "promotion_code",
                "code": code,
                "coupon": {"id": form.get("coupon")},
                "max_redemptions": int(form.get("max_redemptions", "0") or 0) or None,
                "active": True,
            }
            self._promos[code.upper()] = promo
            return 200, promo
        if method == "GET" and path == "/v1/promotion_codes":
            code = (query.get("code") or [""])[0].upper()
            found = [self._promos[code]] if code in self._promos else []
            return 200, {"object": "list", "data": found, "has_more": False}
        return 404, _error("invalid_request_error", "resource_missing", f"No such path {path}")


def _error(kind: str, code: str | None, message: str) -> dict[str, Any]:
    return {"error": {"type": kind, "code": code, "message": message}}


def _tag(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]
