"""parse_smtp_url and the SMTP reply → DeliveryError mapping (pure, no server)."""

from __future__ import annotations

import pytest

from reclaim.adapters.channels.email import SmtpTarget, parse_smtp_url, smtp_error
from reclaim.errors import InvalidInput


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp://relay.example:587",
            SmtpTarget("relay.example", 587, False, "auto", True),
        ),
        (
            "smtp://relay.example",
            SmtpTarget("relay.example", 25, False, "auto", True),
        ),
        (
            "SMTP://user%40shop.example:p%40ss%3Aw%2Frd@relay.example:587?starttls=require",
            SmtpTarget(
                "relay.example", 587, False, "require", True, "user@shop.example", "p@ss:w/rd"
            ),
        ),
        (
            "smtps://relay.example",
            SmtpTarget("relay.example", 465, True, "never", True),
        ),
        (
            "smtp://127.0.0.1:2525?starttls=never&verify=false",
            SmtpTarget("127.0.0.1", 2525, False, "never", False),
        ),
        (
            "smtp://[::1]:25/",
            SmtpTarget("::1", 25, False, "auto", True),
        ),
    ],
)
def test_valid_urls(url: str, expected: SmtpTarget) -> None:
    assert parse_smtp_url(url) == expected


def test_the_password_stays_out_of_repr() -> None:
    target = parse_smtp_url("smtp://user:hunter2@relay.example:587")
    assert target.password == "hunter2"
    assert "hunter2" not in repr(target)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("", "empty"),
        ("http://relay.example", "must start with smtp:// or smtps://"),
        ("relay.example:25", "must start with smtp:// or smtps://"),
        ("smtp://", "no host"),
        ("smtp://relay.example:99999", "port"),
        ("smtp://relay.example:abc", "port"),
        ("smtp://relay.example/path", "path"),
        ("smtp://relay.example#frag", "fragment"),
        ("smtp://user@relay.example", "both a user and a password"),
        ("smtp://:pass@relay.example", "both a user and a password"),
        ("smtp://relay.example?startls=require", "unknown option(s) startls"),
        ("smtp://relay.example?starttls=maybe", "use auto, require or never"),
        ("smtp://relay.example?starttls=never&starttls=auto", "twice"),
        ("smtps://relay.example?starttls=require", "drop the starttls option"),
        ("smtp://relay.example?verify=perhaps", "use true or false"),
        ("smtp://relay .example", "whitespace"),
    ],
)
def test_invalid_urls_say_what_is_wrong(url: str, words: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_smtp_url(url)
    assert err.value.field == "RECLAIM_SMTP_URL"
    assert words in str(err.value)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("relay.example", False)],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert SmtpTarget(host, 25, False, "auto", True).is_loopback is loopback


@pytest.mark.parametrize(
    ("code", "reply", "stage", "permanent", "suppress"),
    [
        (421, "4.3.2 shutting down", "rcpt", False, False),
        (450, "4.2.1 mailbox busy", "rcpt", False, False),
        (451, "4.3.0 try later", "rcpt", False, False),
        (452, "4.5.3 too many recipients", "rcpt", False, False),
        (454, "4.7.0 TLS not available", "connect", False, False),
        (550, "5.1.1 no such user", "rcpt", True, True),
        (550, "no such user", "rcpt", True, True),
        (551, "user not local", "rcpt", True, True),
        (553, "mailbox name not allowed", "rcpt", True, True),
        (553, "5.1.3 bad address syntax", "rcpt", True, True),
        (550, "5.1.10 recipient domain has a null MX", "rcpt", True, True),
        (550, "5.2.1 mailbox disabled", "rcpt", True, True),
        (554, "5.1.1 unknown recipient", "data", True, True),
        (550, "5.7.1 relaying denied", "rcpt", True, False),
        (550, "5.1.8 bad sender's system address", "rcpt", True, False),
        (553, "5.1.7 sender address invalid", "mail", True, False),
        (550, "sender rejected", "mail", True, False),
        (552, "5.2.2 mailbox full", "rcpt", True, False),
        (552, "5.3.4 message too big", "data", True, False),
        (552, "message too big", "rcpt", True, False),
        (554, "5.7.1 rejected as spam", "data", True, False),
        (550, "rejected: content", "data", True, False),
        (554, "transaction failed", "rcpt", True, False),
        (535, "5.7.8 authentication failed", "connect", True, False),
        (530, "5.7.0 must issue STARTTLS first", "mail", True, False),
        (500, "line too long", "rcpt", True, False),
        (-1, "", "rcpt", False, False),
    ],
)
def test_reply_mapping(code: int, reply: str, stage: str, permanent: bool, suppress: bool) -> None:
    error = smtp_error(code, reply.encode(), stage=stage)  # type: ignore[arg-type]
    assert (error.permanent, error.suppress) == (permanent, suppress)
    assert error.code == (code if code > 0 else None)
    assert str(error) == f"SMTP {stage}: {code} {reply}".rstrip()
