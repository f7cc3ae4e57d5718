"""WebhookSender against a local HTTP server; the signature scheme both ways."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from channel_servers import HttpServer, Reply, free_port

from reclaim.adapters.channels.webhook import (
    WebhookSender,
    sign_webhook,
    validate_webhook_url,
    verify_webhook_signature,
)
from reclaim.domain.messages import OutgoingWebhook
from reclaim.errors import DeliveryError, InvalidInput

NOW = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
SECRET = "whsec_test"


def hook(server: HttpServer, payload: dict[str, object] | None = None) -> OutgoingWebhook:
    return OutgoingWebhook(
        url=f"{server.url}/hooks/reclaim?store=7",
        payload=payload if payload is not None else {"event": "cart", "amount": Decimal("12.50")},
        secret=SECRET,
    )


def test_the_receiver_gets_a_signed_compact_json_post(http_server: HttpServer) -> None:
    http_server.replies.append(Reply.json(202, {"id": "evt_81", "ok": True}))
    with WebhookSender() as sender:
        result = sender.send(hook(http_server), now=NOW, delivery_id="dlv_1")

    assert result.provider_id == "evt_81"
    assert result.detail == {"status": 202, "delivery_id": "dlv_1"}
    [request] = http_server.requests
    assert request.path == "/hooks/reclaim?store=7"
    assert request.body == b'{"event":"cart","amount":"12.50"}'
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "Reclaim-Webhook/1"
    assert request.headers["x-reclaim-delivery"] == "dlv_1"
    assert request.headers["x-reclaim-signature"] == (
        "t=1777629600,v1=00ab5f4c7bd0ae68032e7a912d2613d4f213e9e91b731f386061b7f036de6876"
    )
    assert verify_webhook_signature(
        request.headers["x-reclaim-signature"], request.body, SECRET, now=NOW + timedelta(seconds=3)
    )


def test_a_fresh_delivery_id_and_utf8_payload(http_server: HttpServer) -> None:
    payload: dict[str, object] = {"name": "李伟", "at": NOW, "items": [1, 2]}
    with WebhookSender(user_agent="Test/2") as sender:
        result = sender.send(hook(http_server, payload), now=NOW)
    [request] = http_server.requests
    assert request.body == '{"name":"李伟","at":"2026-05-01T10:00:00+00:00","items":[1,2]}'.encode()
    delivery = request.headers["x-reclaim-delivery"]
    assert uuid.UUID(delivery).version == 4
    assert result.detail["delivery_id"] == delivery
    assert result.provider_id is None  # the answer was "{}"
    assert request.headers["user-agent"] == "Test/2"


@pytest.mark.parametrize(
    ("reply", "provider_id"),
    [
        (Reply(status=204, body=b""), None),
        (Reply(status=200, body=b"OK", headers={"Content-Type": "text/plain"}), None),
        (Reply.json(200, {"id": 42}), "42"),
        (Reply.json(200, {"id": True}), None),
        (Reply.json(200, ["id"]), None),
    ],
)
def test_provider_id_from_the_answer(
    http_server: HttpServer, reply: Reply, provider_id: str | None
) -> None:
    http_server.replies.append(reply)
    with WebhookSender() as sender:
        assert sender.send(hook(http_server), now=NOW).provider_id == provider_id


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503])
def test_transient_statuses(http_server: HttpServer, status: int) -> None:
    http_server.replies.append(Reply(status=status))
    with WebhookSender() as sender, pytest.raises(DeliveryError) as err:
        sender.send(hook(http_server), now=NOW)
    assert (err.value.permanent, err.value.code, err.value.suppress) == (False, status, False)
    assert str(err.value) == f"webhook: HTTP {status} from 127.0.0.1"


@pytest.mark.parametrize(
    ("status", "suppress"),
    [(400, False), (401, False), (404, False), (422, False), (410, True), (301, False)],
)
def test_permanent_statuses(http_server: HttpServer, status: int, suppress: bool) -> None:
    headers = {"Location": "https://elsewhere.example/"} if status == 301 else {}
    http_server.replies.append(Reply(status=status, body=b"", headers=headers))
    with WebhookSender() as sender, pytest.raises(DeliveryError) as err:
        sender.send(hook(http_server), now=NOW)
    assert (err.value.permanent, err.value.code, err.value.suppress) == (True, status, suppress)
    assert len(http_server.requests) == 1  # a redirect is not followed


def test_a_timeout_is_transient(http_server: HttpServer) -> None:
    http_server.replies.append(Reply(hang=True))
    with WebhookSender(timeout=0.5) as sender, pytest.raises(DeliveryError) as err:
        sender.send(hook(http_server), now=NOW)
    assert (err.value.permanent, err.value.code) == (False, None)
    assert "ReadTimeout" in str(err.value)


def test_a_refused_connection_is_transient() -> None:
    target = OutgoingWebhook(url=f"http://127.0.0.1:{free_port()}/", payload={}, secret=SECRET)
    with WebhookSender() as sender, pytest.raises(DeliveryError) as err:
        sender.send(target, now=NOW)
    assert (err.value.permanent, err.value.code) == (False, None)


def test_a_large_answer_is_read_only_up_to_the_cap(http_server: HttpServer) -> None:
    http_server.replies.append(Reply(status=200, body=b'{"id": "x"' + b" " * 200_000 + b"}"))
    with WebhookSender() as sender:
        assert sender.send(hook(http_server), now=NOW).provider_id is None


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("", "empty"),
        ("ftp://hooks.example/x", "must be http:// or https://"),
        ("/relative/path", "must be http:// or https://"),
        ("https://user:pw@hooks.example/x", "must not carry credentials"),
        ("https://token@hooks.example/x", "must not carry credentials"),
        ("https://hooks.example/a b", "whitespace"),
        ("https://hooks.example/\r\nX: y", "whitespace"),
        ("https://" + "a" * 2050, "longer than 2048"),
        ("http:///nohost", "no host"),
    ],
)
def test_bad_urls_are_refused_before_any_request(
    http_server: HttpServer, url: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_webhook_url(url)
    assert err.value.field == "url"
    assert words in str(err.value)
    with WebhookSender() as sender, pytest.raises(InvalidInput):
        sender.send(OutgoingWebhook(url=url, payload={}, secret=SECRET), now=NOW)
    assert http_server.requests == []


def test_an_unserialisable_payload_or_empty_secret_is_refused(http_server: HttpServer) -> None:
    with WebhookSender() as sender:
        with pytest.raises(InvalidInput) as err:
            sender.send(hook(http_server, {"x": object()}), now=NOW)
        assert err.value.field == "payload"
        empty = OutgoingWebhook(url=http_server.url, payload={}, secret="")
        with pytest.raises(InvalidInput) as err:
            sender.send(empty, now=NOW)
        assert err.value.field == "secret"
    assert http_server.requests == []


BODY = b'{"event":"cart","amount":"12.50"}'
GOOD = sign_webhook(BODY, SECRET, now=NOW)


def test_sign_webhook_exact_value() -> None:
    assert GOOD == (
        "t=1777629600,v1=00ab5f4c7bd0ae68032e7a912d2613d4f213e9e91b731f386061b7f036de6876"
    )


@pytest.mark.parametrize(
    ("header", "body", "secret", "seconds", "valid"),
    [
        (GOOD, BODY, SECRET, 0, True),
        (GOOD, BODY, SECRET, 300, True),
        (GOOD, BODY, SECRET, -300, True),
        (GOOD, BODY, SECRET, 301, False),  # stale: a replay
        (GOOD, BODY, SECRET, -301, False),  # from the future
        (GOOD, BODY + b" ", SECRET, 0, False),
        (GOOD, BODY, "other_secret", 0, False),
        (GOOD, BODY, "", 0, False),
        (f"v1=deadbeef, {GOOD.replace(',', ', ')}", BODY, SECRET, 0, True),  # rotation
        (GOOD.split(",")[0], BODY, SECRET, 0, False),  # no v1
        (GOOD.split(",")[1], BODY, SECRET, 0, False),  # no t
        (GOOD + ",t=1777629600", BODY, SECRET, 0, False),  # two t
        ("t=abc,v1=00", BODY, SECRET, 0, False),
        (
            "t=１７７７６２９６００," + GOOD.split(",")[1],
            BODY,
            SECRET,
            0,
            False,
        ),  # non-ASCII digits
        ("garbage", BODY, SECRET, 0, False),
        ("", BODY, SECRET, 0, False),
        (GOOD.upper(), BODY, SECRET, 0, False),
    ],
)
def test_verify_webhook_signature(
    header: str, body: bytes, secret: str, seconds: int, valid: bool
) -> None:
    now = NOW + timedelta(seconds=seconds)
    assert verify_webhook_signature(header, body, secret, now=now) is valid


def test_a_custom_tolerance() -> None:
    later = NOW + timedelta(seconds=61)
    assert verify_webhook_signature(GOOD, BODY, SECRET, now=later, tolerance=60) is False
    assert verify_webhook_signature(GOOD, BODY, SECRET, now=later, tolerance=61) is True
