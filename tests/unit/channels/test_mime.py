"""build_mime: the wire form of a recovery email, parsed back with the stdlib."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import formataddr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reclaim.adapters.channels.email import build_mime
from reclaim.adapters.channels.mime import needs_smtputf8
from reclaim.domain.messages import OutgoingEmail
from reclaim.errors import InvalidInput

DATE = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
BASE = OutgoingEmail(
    to="customer@example.com",
    from_address="Boutique <shop@boutique.example>",
    subject="Your cart is waiting",
    text="Hello,\nyour cart: https://boutique.example/r/1\n",
    html="<p>Hello</p>",
    message_id="<m1@boutique.example>",
    list_unsubscribe_url="https://boutique.example/u/t1",
)


def parse(data: bytes) -> EmailMessage:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_headers_in_order_with_crlf_and_no_8bit() -> None:
    data = build_mime(BASE, date=DATE)
    head = data.split(b"\r\n\r\n", 1)[0]
    names = [line.split(b":")[0] for line in head.split(b"\r\n") if not line.startswith(b" ")]
    assert names == [
        b"From",
        b"To",
        b"Subject",
        b"Date",
        b"Message-ID",
        b"List-Unsubscribe",
        b"List-Unsubscribe-Post",
        b"MIME-Version",
        b"Content-Type",
    ]
    assert data.isascii()
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert data.count(b"MIME-Version") == 1
    assert max(len(line) for line in data.split(b"\r\n")) <= 78


@pytest.mark.parametrize(
    "subject",
    [
        "您的购物车还在等您 — 限时优惠，请尽快完成您的订单，我们为您保留了商品",
        "カートに商品が残っています。お早めにご購入ください",
        "Ihr Warenkorb wartet — Grüße aus Köln",
    ],
)
def test_non_ascii_subject_and_display_name_round_trip(subject: str) -> None:
    message = replace(BASE, subject=subject, from_address="ブティック東京 <shop@boutique.example>")
    msg = parse(build_mime(message, date=DATE))
    assert msg["Subject"] == subject
    assert msg["From"] == "ブティック東京 <shop@boutique.example>"
    assert msg["From"].addresses[0].addr_spec == "shop@boutique.example"


def test_bodies_are_utf8_and_decode_back() -> None:
    message = replace(BASE, text="Grüße, 你好 ✓\n" + "long line " * 30 + "\n", html="<p>你好</p>")
    plain, html = parse(build_mime(message, date=DATE)).iter_parts()
    assert plain.get_content_charset() == "utf-8"
    assert plain["Content-Transfer-Encoding"] in ("quoted-printable", "base64")
    assert plain.get_content().replace("\r\n", "\n") == message.text
    assert html.get_content().replace("\r\n", "\n") == "<p>你好</p>\n"


def test_a_long_unsubscribe_url_stays_a_url() -> None:
    url = "https://boutique.example/unsubscribe/" + "a1B2" * 60 + "?case=42&step=reminder"
    message = replace(BASE, list_unsubscribe_url=url, list_unsubscribe_mailto="u@boutique.example")
    data = build_mime(message, date=DATE)
    assert f"List-Unsubscribe: <{url}>,\r\n <mailto:u@boutique.example>\r\n".encode() in data
    assert parse(data)["List-Unsubscribe"] == f"<{url}>, <mailto:u@boutique.example>"


def test_date_is_written_in_utc() -> None:
    paris = timezone(timedelta(hours=2))
    msg = parse(build_mime(BASE, date=datetime(2026, 5, 1, 12, 0, tzinfo=paris)))
    assert msg["Date"] == "Fri, 01 May 2026 10:00:00 +0000"


def test_same_input_same_bytes_and_a_content_derived_boundary() -> None:
    first = build_mime(BASE, date=DATE)
    assert build_mime(BASE, date=DATE) == first
    other = build_mime(replace(BASE, text="Other"), date=DATE)
    assert parse(first).get_boundary() != parse(other).get_boundary()
    assert parse(first).get_boundary().startswith("=_rc_")


def test_text_only_when_there_is_no_html() -> None:
    msg = parse(build_mime(replace(BASE, html=""), date=DATE))
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content().replace("\r\n", "\n") == BASE.text


def test_reply_to_and_extra_headers() -> None:
    message = replace(
        BASE,
        reply_to="Support <help@boutique.example>",
        headers=(("X-Reclaim-Message", "msg_123"), ("X-Note", "Grüße")),
    )
    msg = parse(build_mime(message, date=DATE))
    assert msg["Reply-To"] == "Support <help@boutique.example>"
    assert msg["X-Reclaim-Message"] == "msg_123"
    assert msg["X-Note"] == "Grüße"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"subject": "Hi\r\nBcc: victim@example.com"}, "Subject"),
        ({"subject": "Hi\nBcc: victim@example.com"}, "Subject"),
        ({"to": "a@example.com\r\nBcc: b@example.com"}, "To"),
        ({"from_address": "Shop <shop@example.com>\n"}, "From"),
        ({"reply_to": "x@example.com\rBcc: y@example.com"}, "Reply-To"),
        ({"message_id": "<a@b>\r\nBcc: y@example.com"}, "Message-ID"),
        ({"list_unsubscribe_url": "https://x.example/u\r\nBcc: y@example.com"}, "List-Unsubscribe"),
        ({"list_unsubscribe_mailto": "u@x.example\nBcc: y@example.com"}, "List-Unsubscribe"),
        ({"headers": (("X-Tag", "a\r\nBcc: y@example.com"),)}, "X-Tag"),
        ({"headers": (("X-Tag\r\nBcc", "y"),)}, "headers"),
        ({"subject": "Hi\x00there"}, "Subject"),
        ({"text": "Hello\x00"}, "text"),
    ],
)
def test_header_injection_is_refused(change: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        build_mime(replace(BASE, **change), date=DATE)  # type: ignore[arg-type]
    assert err.value.field == field


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"to": "a@example.com, b@example.com"}, "To", "exactly one"),
        ({"to": "not an address"}, "To", "exactly one"),
        ({"to": "kunde@bücher.example"}, "To", "ASCII"),
        ({"from_address": ""}, "From", "exactly one"),
        ({"message_id": "m1@boutique.example"}, "Message-ID", "<unique@domain>"),
        ({"message_id": "<no domain>"}, "Message-ID", "<unique@domain>"),
        ({"list_unsubscribe_url": "ftp://x.example/u"}, "List-Unsubscribe", "http(s)"),
        ({"list_unsubscribe_url": "https://x.example/ü"}, "List-Unsubscribe", "http(s)"),
        ({"list_unsubscribe_mailto": "mailto:nobody"}, "List-Unsubscribe", "not an address"),
        ({"headers": (("Subject", "second subject"),)}, "Subject", "set by the channel"),
        ({"headers": (("dkim-signature", "v=1"),)}, "dkim-signature", "set by the channel"),
    ],
)
def test_invalid_fields_are_named(change: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(InvalidInput) as err:
        build_mime(replace(BASE, **change), date=DATE)  # type: ignore[arg-type]
    assert err.value.field == field
    assert words in str(err.value)


def test_a_naive_date_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        build_mime(BASE, date=datetime(2026, 5, 1, 10, 0))
    assert err.value.field == "date"


_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\n\t"),
    max_size=400,
)


@settings(max_examples=150, deadline=None)
@given(
    subject=st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=120),
    name=st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40),
    text=_TEXT,
    html=_TEXT,
)
def test_any_content_round_trips_through_the_stdlib_parser(
    subject: str, name: str, text: str, html: str
) -> None:
    """Whatever the subject, display name and bodies, the stdlib reads back the same values,
    and the wire is ASCII with CRLF line ends and no line over 998 octets."""
    message = replace(
        BASE,
        subject=subject,
        from_address=formataddr((name, "shop@boutique.example")),
        text=text,
        html=html,
    )
    data = build_mime(message, date=DATE)
    assert data.isascii()
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    msg = parse(data)
    # Blanks around a header's value are not part of it; in a display name (a phrase) runs of
    # blanks read as one, and the stdlib's parser puts a blank between the encoded words of
    # a folded one (RFC 2047 §6.2 says to drop it): so its words are compared without blanks.
    assert msg["Subject"].strip() == subject.strip()
    assert "".join(msg["From"].addresses[0].display_name.split()) == "".join(name.split())
    assert msg["From"].addresses[0].addr_spec == "shop@boutique.example"
    parts = list(msg.iter_parts()) if html else [msg]
    want = [text, html] if html else [text]
    for part, content in zip(parts, want, strict=True):
        expected = content if content.endswith("\n") else content + "\n"
        assert part.get_content().replace("\r\n", "\n") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a@b.example", "a@b.example"),
        ("a.b+c_d@x-y.example", "a.b+c_d@x-y.example"),
        ("Kunde <k@b.example>", "Kunde <k@b.example>"),
        ('"q"@x.example', "q@x.example"),
    ],
)
def test_bare_and_named_addresses_read_alike(value: str, expected: str) -> None:
    from reclaim.adapters.channels.mime import mailbox

    assert mailbox(value, "To")[0] == expected


@pytest.mark.parametrize(
    "value", ["a,b@x.example", "a..b@x.example", ".a@x.example", "a@b@c.example", "a b@x.example"]
)
def test_addresses_a_quick_look_might_pass_are_refused(value: str) -> None:
    with pytest.raises(InvalidInput) as err:
        build_mime(replace(BASE, to=value), date=DATE)
    assert err.value.field == "To"


@pytest.mark.parametrize(
    ("to", "reply_to"),
    [
        ("Jürgen Müller <jürgen@exämple.de>", None),
        ("用户@例子.广告", None),
        ('"Li, Wei" <li@例子.广告>', "帮助@例子.广告"),
        ("customer@example.com", "hilfe@bücher.example"),  # only the Reply-To is not ASCII
    ],
)
def test_with_smtputf8_an_internationalised_address_is_written_in_utf8(
    to: str, reply_to: str | None
) -> None:
    message = replace(BASE, to=to, reply_to=reply_to)
    assert needs_smtputf8(message)
    with pytest.raises(InvalidInput, match="SMTPUTF8"):
        build_mime(message, date=DATE)  # not without it: the header would not be ASCII
    data = build_mime(message, date=DATE, smtputf8=True)
    assert not data.isascii()
    body = data.split(b"\r\n\r\n", 1)[1]
    assert body.isascii()  # only an address may be 8-bit; the parts stay QP/base64/7bit
    msg = email.message_from_string(data.decode("utf-8"), policy=email.policy.SMTPUTF8)
    assert msg["To"] == to
    if reply_to:
        assert msg["Reply-To"].addresses[0].addr_spec == reply_to
    assert msg["Subject"] == BASE.subject


def test_ascii_addresses_need_no_smtputf8_and_give_the_same_bytes() -> None:
    assert not needs_smtputf8(BASE)
    assert build_mime(BASE, date=DATE, smtputf8=True) == build_mime(BASE, date=DATE)


@pytest.mark.parametrize(
    "to",
    [
        "jür gen@exämple.de",
        "jür\u00a0gen@exämple.de",  # a no-break space
        "jür\u2028gen@exämple.de",  # a line separator
        "jür\u0085gen@exämple.de",  # NEL, a C1 control
        "jürgen@exä_mple.de",
        "jürgen@@exämple.de",
    ],
)
def test_an_internationalised_address_is_still_checked(to: str) -> None:
    with pytest.raises(InvalidInput) as err:
        build_mime(replace(BASE, to=to), date=DATE, smtputf8=True)
    assert err.value.field == "To"
