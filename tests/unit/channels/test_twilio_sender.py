"""TwilioSmsSender against a local Twilio-like HTTP server; phone number normalisation."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

import pytest
from channel_servers import HttpServer, Reply, free_port

from reclaim.adapters.channels.sms import TwilioSmsSender, is_mobile, normalize_e164
from reclaim.domain.messages import OutgoingSms
from reclaim.errors import DeliveryError, InvalidInput

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "tok_secret"
CREATED = {
    "sid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
    "status": "queued",
    "num_segments": "2",
    "to": "+4915123456789",
}


def sender(server: HttpServer, **kwargs: object) -> TwilioSmsSender:
    return TwilioSmsSender(
        base_url=server.url,
        account_sid=SID,
        auth_token=TOKEN,
        sender="+15005550006",
        **kwargs,  # type: ignore[arg-type]
    )


def twilio_error(status: int, code: int, message: str) -> Reply:
    return Reply.json(
        status,
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


def test_the_provider_receives_form_fields_and_basic_auth(http_server: HttpServer) -> None:
    http_server.replies.append(Reply.json(201, CREATED))
    body = "Ihr Warenkorb wartet: https://b.example/r/1 — Grüße"
    with sender(http_server) as sms:
        result = sms.send(OutgoingSms(to="+4915123456789", body=body))

    assert result.provider_id == "SM1f0e8ae6ade43cb3c0ce4525424e404f"
    assert result.segments == 2  # the provider's own count wins
    assert result.detail == {"status": "queued", "encoding": "UCS-2", "units": 51}
    [request] = http_server.requests
    assert request.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["authorization"] == (
        "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    )
    assert parse_qs(request.body.decode(), strict_parsing=True) == {
        "To": ["+4915123456789"],
        "From": ["+15005550006"],
        "Body": [body],
    }


def test_our_segment_count_when_the_provider_gives_none(http_server: HttpServer) -> None:
    http_server.replies.append(Reply.json(201, {"sid": "SM1", "status": "queued"}))
    with sender(http_server) as sms:
        result = sms.send(OutgoingSms(to="+4915123456789", body="a" * 161, sender="Boutique"))
    assert (result.provider_id, result.segments) == ("SM1", 2)
    assert parse_qs(http_server.requests[0].body.decode())["From"] == ["Boutique"]


def test_one_connection_is_reused(http_server: HttpServer) -> None:
    http_server.replies.extend(Reply.json(201, {"sid": f"SM{n}"}) for n in range(5))
    with sender(http_server) as sms:
        ids = [sms.send(OutgoingSms(to="+4915123456789", body="Hi")).provider_id for _ in range(5)]
    assert ids == ["SM0", "SM1", "SM2", "SM3", "SM4"]
    assert http_server.connections == 1


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (21211, "The 'To' number +49123 is not a valid phone number."),
        (21614, "'To' number is not a valid mobile number"),
        (21610, "Attempt to send to unsubscribed recipient"),
    ],
)
def test_bad_recipients_are_permanent_and_suppressed(
    http_server: HttpServer, code: int, message: str
) -> None:
    http_server.replies.append(twilio_error(400, code, message))
    with sender(http_server) as sms, pytest.raises(DeliveryError) as err:
        sms.send(OutgoingSms(to="+49123", body="Hi"))
    assert (err.value.permanent, err.value.suppress, err.value.code) == (True, True, code)
    assert str(err.value) == f"SMS API: HTTP 400, error {code}: {message}"


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (twilio_error(401, 20003, "Authenticate"), 20003),
        (twilio_error(400, 21408, "Permission to send an SMS has not been enabled"), 21408),
        (
            twilio_error(400, 21606, "The From phone number is not a valid SMS-capable number"),
            21606,
        ),
        (Reply(status=404, body=b"not json"), 404),
    ],
)
def test_other_4xx_are_permanent_without_suppression(
    http_server: HttpServer, reply: Reply, code: int
) -> None:
    http_server.replies.append(reply)
    with sender(http_server) as sms, pytest.raises(DeliveryError) as err:
        sms.send(OutgoingSms(to="+4915123456789", body="Hi"))
    assert (err.value.permanent, err.value.suppress, err.value.code) == (True, False, code)


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (twilio_error(429, 20429, "Too Many Requests"), 20429),
        (Reply(status=500, body=b""), 500),
        (Reply(status=503, body=b"<html>down</html>"), 503),
    ],
)
def test_rate_limits_and_server_errors_are_transient(
    http_server: HttpServer, reply: Reply, code: int
) -> None:
    http_server.replies.append(reply)
    with sender(http_server) as sms, pytest.raises(DeliveryError) as err:
        sms.send(OutgoingSms(to="+4915123456789", body="Hi"))
    assert (err.value.permanent, err.value.suppress, err.value.code) == (False, False, code)


def test_a_timeout_is_transient(http_server: HttpServer) -> None:
    http_server.replies.append(Reply(hang=True))
    with sender(http_server, timeout=0.5) as sms, pytest.raises(DeliveryError) as err:
        sms.send(OutgoingSms(to="+4915123456789", body="Hi"))
    assert (err.value.permanent, err.value.code) == (False, None)
    assert "ReadTimeout" in str(err.value)


def test_a_refused_connection_is_transient() -> None:
    sms = TwilioSmsSender(
        base_url=f"http://127.0.0.1:{free_port()}",
        account_sid=SID,
        auth_token=TOKEN,
        sender="+15005550006",
    )
    with sms, pytest.raises(DeliveryError) as err:
        sms.send(OutgoingSms(to="+4915123456789", body="Hi"))
    assert (err.value.permanent, err.value.code) == (False, None)
    assert "ConnectError" in str(err.value)


def test_an_empty_body_is_refused_before_any_request(http_server: HttpServer) -> None:
    with sender(http_server) as sms, pytest.raises(InvalidInput) as err:
        sms.send(OutgoingSms(to="+4915123456789", body="  "))
    assert err.value.field == "body"
    assert http_server.requests == []


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"base_url": "ftp://api.example"}, "not an http(s) URL"),
        ({"account_sid": ""}, "are required"),
        ({"sender": ""}, "sender (From) is required"),
    ],
)
def test_bad_configuration(kwargs: dict[str, str], words: str) -> None:
    settings = {
        "base_url": "https://api.twilio.com",
        "account_sid": SID,
        "auth_token": TOKEN,
        "sender": "+15005550006",
    }
    settings.update(kwargs)
    with pytest.raises(InvalidInput) as err:
        TwilioSmsSender(**settings)
    assert err.value.field == "sms"
    assert words in str(err.value)


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("+49 151 23456789", None, "+4915123456789"),
        ("0151 23456789", "DE", "+4915123456789"),
        ("0151-234-567-89", "de", "+4915123456789"),
        ("(202) 555-0123", "US", "+12025550123"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("+86 138 0013 8000", "DE", "+8613800138000"),
        ("090-1234-5678", "JP", "+819012345678"),
    ],
)
def test_normalize_e164(raw: str, region: str | None, e164: str) -> None:
    assert normalize_e164(raw, default_region=region) == e164


@pytest.mark.parametrize(
    ("raw", "region", "words"),
    [
        ("", None, "empty"),
        ("0151 23456789", None, "has no valid country code"),
        ("call me", "DE", "is not a phone number"),
        ("+49 1", None, "is too short"),
        ("+49 151 234567890123456789", None, "is too long"),
        ("+1 555 0000", None, "is not a valid number for its region"),
    ],
)
def test_normalize_e164_names_the_problem(raw: str, region: str | None, words: str) -> None:
    with pytest.raises(InvalidInput) as err:
        normalize_e164(raw, default_region=region)
    assert err.value.field == "phone"
    assert words in str(err.value)


@pytest.mark.parametrize(
    ("raw", "mobile"),
    [("+4915123456789", True), ("+493012345678", False), ("+12025550123", True)],
)
def test_is_mobile(raw: str, mobile: bool) -> None:
    assert is_mobile(raw) is mobile
