"""The demo stores' platform APIs, simulated: what Reclaim calls to create its coupons and to
cancel orders whose hold ran out, answered as each platform answers.

One real HTTP server on loopback, routed by path as the platforms' own are:

* Stripe: ``POST /v1/coupons``, ``POST /v1/promotion_codes`` (codes of letters and digits
  only, one active code of a kind, a repeated ``Idempotency-Key`` answered as the first time),
  ``GET /v1/promotion_codes?code=…``; ``Authorization: Bearer <key>``.
* Shopify: ``POST /admin/api/2024-10/graphql.json`` (``discountCodeBasicCreate``,
  ``discountCodeFreeShippingCreate``, ``codeDiscountNodeByCode``; a code it has is ``TAKEN``)
  and ``POST /admin/api/2024-10/orders/{id}/cancel.json``; ``X-Shopify-Access-Token``.
* WooCommerce: ``POST /wp-json/wc/v3/coupons`` (``woocommerce_rest_coupon_code_already_exists``
  for a code it has), ``GET /wp-json/wc/v3/coupons?code=…``, ``PUT /wp-json/wc/v3/orders/{id}``;
  HTTP Basic with the REST key.

The Stripe storefront asks it which promotion code a typed code is (:meth:`PlatformApi.
discounts`), so a completed Checkout Session names it by id as Stripe does: Reclaim can tell
its own coupon was redeemed only because it created it there.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_CODE = re.compile(r"^[A-Za-z0-9]{1,500}$")


class PlatformApi:
    def __init__(self, tokens: dict[str, str]) -> None:
        self.tokens = tokens  # platform -> the key it expects
        self.calls = 0
        self._lock = threading.Lock()
        self._promos: dict[str, dict[str, Any]] = {}  # code (upper case) -> promotion code
        self._discounts: dict[str, str] = {}  # Shopify: code (upper case) -> discount node id
        self._woo: dict[str, int] = {}  # WooCommerce: code (lower case) -> coupon id
        self.cancelled: list[tuple[str, str]] = []  # (platform, order id)
        self._replies: dict[str, tuple[int, dict[str, Any]]] = {}  # Idempotency-Key -> reply
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._answer(*api._handle("GET", self.path, b"", dict(self.headers)))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                self._answer(
                    *api._handle("POST", self.path, self.rfile.read(length), dict(self.headers))
                )

            def do_PUT(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                self._answer(
                    *api._handle("PUT", self.path, self.rfile.read(length), dict(self.headers))
                )

            def _answer(self, status: int, body: Any) -> None:
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

    def __enter__(self) -> PlatformApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def promotion_codes(self) -> int:
        return len(self._promos)

    @property
    def coupons_created(self) -> dict[str, int]:
        """Per platform, the coupons created on it."""
        return {
            "stripe": len(self._promos),
            "shopify": len(self._discounts),
            "woocommerce": len(self._woo),
        }

    def discounts(self, codes: tuple[str, ...]) -> list[dict[str, Any]]:
        """What a Checkout Session's ``discounts`` says of the codes a customer entered: the
        promotion codes this Stripe has (a code it does not have is refused at checkout)."""
        with self._lock:
            found = [self._promos.get(code.replace("-", "").upper()) for code in codes]
        return [{"coupon": p["coupon"]["id"], "promotion_code": p["id"]} for p in found if p]

    # -- the API ---------------------------------------------------------------------------

    def _handle(
        self, method: str, target: str, raw: bytes, headers: dict[str, str]
    ) -> tuple[int, Any]:
        with self._lock:
            self.calls += 1
            wanted = {k.lower(): v for k, v in headers.items()}
            path = urlsplit(target).path
            query = parse_qs(urlsplit(target).query)
            if path.startswith("/v1/"):
                if wanted.get("authorization") != f"Bearer {self.tokens.get('stripe')}":
                    return 401, _error("invalid_request_error", None, "Invalid API Key provided")
                key = wanted.get("idempotency-key")
                if key is not None and key in self._replies:
                    return self._replies[key]
                form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                reply = self._route(method, path, form, query)
                if key is not None and reply[0] < 500:
                    self._replies[key] = reply
                return reply
            if path.startswith("/admin/api/"):
                if wanted.get("x-shopify-access-token") != self.tokens.get("shopify"):
                    return 401, {"errors": "[API] Invalid API key or access token"}
                return self._shopify(method, path, raw)
            if path.startswith("/wp-json/wc/v3/"):
                expected = (
                    "Basic "
                    + base64.b64encode((self.tokens.get("woocommerce") or "").encode()).decode()
                )
                if wanted.get("authorization") != expected:
                    return 401, {"code": "woocommerce_rest_cannot_create", "message": "no"}
                return self._woocommerce(method, path, raw, query)
            return 404, {"message": f"no such path {path}"}

    def _shopify(self, method: str, path: str, raw: bytes) -> tuple[int, Any]:
        cancel = re.fullmatch(r"/admin/api/[0-9-]+/orders/([^/]+)/cancel\.json", path)
        if method == "POST" and cancel:
            self.cancelled.append(("shopify", cancel.group(1)))
            return 200, {"order": {"id": cancel.group(1), "cancelled_at": "now"}}
        if method != "POST" or not path.endswith("/graphql.json"):
            return 404, {"errors": "Not Found"}
        body = json.loads(raw or b"{}")
        query, variables = str(body.get("query", "")), body.get("variables") or {}
        if "codeDiscountNodeByCode" in query:
            found = self._discounts.get(str(variables.get("code", "")).upper())
            return 200, {"data": {"codeDiscountNodeByCode": {"id": found} if found else None}}
        mutation = next(
            (
                m
                for m in ("discountCodeBasicCreate", "discountCodeFreeShippingCreate")
                if m in query
            ),
            None,
        )
        if mutation is None:
            return 200, {"errors": [{"message": "unknown operation"}]}
        code = str((variables.get("d") or {}).get("code", ""))
        if code.upper() in self._discounts:
            errors = [{"field": ["basicCodeDiscount", "code"], "code": "TAKEN", "message": "taken"}]
            return 200, {"data": {mutation: {"codeDiscountNode": None, "userErrors": errors}}}
        node = "gid://shopify/DiscountCodeNode/" + str(100000 + len(self._discounts))
        self._discounts[code.upper()] = node
        return 200, {"data": {mutation: {"codeDiscountNode": {"id": node}, "userErrors": []}}}

    def _woocommerce(
        self, method: str, path: str, raw: bytes, query: dict[str, list[str]]
    ) -> tuple[int, Any]:
        order = re.fullmatch(r"/wp-json/wc/v3/orders/([^/]+)", path)
        if method == "PUT" and order:
            self.cancelled.append(("woocommerce", order.group(1)))
            return 200, {"id": order.group(1), "status": "cancelled"}
        if path != "/wp-json/wc/v3/coupons":
            return 404, {"code": "rest_no_route", "message": "No route was found"}
        if method == "GET":
            code = (query.get("code") or [""])[0].lower()
            return 200, [{"id": self._woo[code], "code": code}] if code in self._woo else []
        code = str(json.loads(raw or b"{}").get("code", "")).lower()  # Woo keeps codes lower case
        if code in self._woo:
            return 400, {
                "code": "woocommerce_rest_coupon_code_already_exists",
                "message": f"The coupon code {code} already exists",
            }
        self._woo[code] = 5000 + len(self._woo)
        return 201, {"id": self._woo[code], "code": code}

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
