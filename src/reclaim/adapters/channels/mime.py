"""The wire form of a recovery email: :func:`build_mime` (RFC 5322, MIME, RFC 2047, RFC 8058).

Layout: ``multipart/alternative`` with ``text/plain`` then ``text/html`` (a text-only message
when ``html`` is empty), both UTF-8, inside a ``multipart/mixed`` with the attachments (a
report's PDF, base64) after it when the email has any; each part is 7bit when it is ASCII with short lines, else
quoted-printable or base64, whichever is shorter (the stdlib's rule), so nothing 8-bit is ever
emitted and no relay needs 8BITMIME. Line ends are CRLF.

Headers are written in a fixed order: From, To, Reply-To (if given), Subject, Date,
Message-ID, List-Unsubscribe, List-Unsubscribe-Post, the caller's extra headers, MIME-Version,
Content-Type. Display names and the Subject are RFC 2047 encoded when they are not ASCII and
folded at 78 columns. Message-ID, Date and List-Unsubscribe are written verbatim: a folder
would otherwise turn a long unsubscribe URL into an encoded word, which no mail client reads
as a URL.

The bytes are written directly rather than through :class:`email.message.EmailMessage`,
whose header registry and generator cost about 1.7 ms per message (``bench/send/``); the
stdlib's C encoders (:func:`binascii.b2a_qp`, base64) and :class:`email.header.Header` do
the encoding, and the tests parse every form back with the stdlib's modern parser.

Addresses are ASCII (``user@example.com``; a display name may be anything) unless
``smtputf8`` is given: then an address may be internationalised (``jürgen@exämple.de``,
RFC 6532), written as raw UTF-8 in its header, and the message must go with SMTP's
``SMTPUTF8`` option (:func:`needs_smtputf8` tells; the sender checks the relay offers it).
Display names and the Subject stay RFC 2047 encoded either way. A value with a line break
or another control character is refused (:class:`~reclaim.errors.InvalidInput` naming the
header): header injection is impossible by construction.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
from datetime import UTC, datetime
from email.errors import NonASCIILocalPartDefect
from email.header import Header
from email.headerregistry import AddressHeader
from email.utils import format_datetime, formataddr

from reclaim.adapters.channels.dkim import DkimSigner
from reclaim.domain.messages import OutgoingEmail
from reclaim.errors import InvalidInput

MAX_LINE = 998  # RFC 5322 §2.1.1, octets per line without the CRLF
FOLD_AT = 78  # RFC 5322 §2.1.1: lines SHOULD be no longer
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_FIELD_NAME = re.compile(r"[!-9;-~]+")
_MESSAGE_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>")
_URL = re.compile(r"https?://[!-;=?-~]+", re.IGNORECASE)
_ADDR_SPEC = re.compile(r"[!-;=?-~]+@[A-Za-z0-9.-]+")
# RFC 6532: the same, with any printable non-ASCII character too (checked apart: no
# Unicode space, line separator or C1 control passes ``str.isprintable``).
_UTF8_ADDR_SPEC = re.compile(r"[!-;=?-~\u0080-\U0010ffff]+@[A-Za-z0-9.\u0080-\U0010ffff-]+")
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
_MAILTO = re.compile(r"mailto:[!-;=?-~]+", re.IGNORECASE)
_RESERVED = frozenset(
    [
        "from",
        "to",
        "cc",
        "bcc",
        "reply-to",
        "sender",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "dkim-signature",
        "return-path",
    ]
)
CRLF = "\r\n"


def needs_smtputf8(email: OutgoingEmail) -> bool:
    """Whether one of the email's addresses (From, To, Reply-To) is not ASCII, so that the
    message can only go with ``SMTPUTF8``. Raises :class:`~reclaim.errors.InvalidInput` for
    an address that is not one even so."""
    return not all(spec.isascii() for spec in _addr_specs(email))


def _addr_specs(email: OutgoingEmail) -> list[str]:
    fields = [("From", email.from_address), ("To", email.to)]
    if email.reply_to:
        fields.append(("Reply-To", email.reply_to))
    return [mailbox(value, name, utf8=True)[1] for name, value in fields]


def build_mime(
    email: OutgoingEmail, *, dkim: DkimSigner | None = None, date: datetime, smtputf8: bool = False
) -> bytes:
    """The message as SMTP ``DATA`` bytes, DKIM-signed (``t=`` is ``date``) when ``dkim``.

    ``date`` (aware) is the Date header, written in UTC. The MIME boundary is derived from
    the content, so the same email and date always give the same bytes. ``smtputf8``:
    addresses may be non-ASCII (raw UTF-8 in the header; the message then needs SMTPUTF8).
    Raises :class:`~reclaim.errors.InvalidInput` naming the first bad field.
    """
    if date.tzinfo is None:
        raise InvalidInput("the Date must be timezone-aware", field="date")
    head = [
        "From: " + mailbox(email.from_address, "From", utf8=smtputf8)[0],
        "To: " + mailbox(email.to, "To", utf8=smtputf8)[0],
    ]
    if email.reply_to:
        head.append("Reply-To: " + mailbox(email.reply_to, "Reply-To", utf8=smtputf8)[0])
    head.append(_text_header("Subject", _checked("Subject", email.subject)))
    head.append("Date: " + format_datetime(date.astimezone(UTC)))
    head.append("Message-ID: " + _message_id(email.message_id))
    if email.list_unsubscribe_url is not None:  # every message to a customer has one
        head.append("List-Unsubscribe: " + _list_unsubscribe(email))
        head.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    head.extend(_extra_header(name, value) for name, value in email.headers)
    head.append("MIME-Version: 1.0")
    text_head, text_body = _part(_checked("text", email.text, allow_newlines=True), "plain")
    if email.html:
        html_head, html_body = _part(_checked("html", email.html, allow_newlines=True), "html")
        digest = hashlib.sha256(
            "\0".join((email.message_id, email.text, email.html)).encode("utf-8")
        ).hexdigest()
        # "=_" cannot occur in quoted-printable or base64 output, and a 7bit part would have
        # to contain the hash of itself.
        boundary = f"=_rc_{digest[:32]}"
        entity_head = f'Content-Type: multipart/alternative;{CRLF} boundary="{boundary}"'
        entity_body = CRLF.join(
            (
                "",  # the blank line between the header and the body
                f"--{boundary}",
                text_head,
                "",
                text_body,  # ends in CRLF; the CRLF before a delimiter belongs to it
                f"--{boundary}",
                html_head,
                "",
                html_body,
                f"--{boundary}--",
                "",
            )
        )
    else:
        entity_head, entity_body = text_head, CRLF + text_body
    if email.attachments:
        head.append(_mixed_head(email))
        body = _mixed_body(email, entity_head, entity_body)
    else:
        head.append(entity_head)
        body = entity_body
    # Only an internationalised address can make the header non-ASCII (RFC 6532).
    wire = (CRLF.join(head) + CRLF + body).encode("utf-8" if smtputf8 else "ascii")
    if dkim is not None:
        wire = dkim.sign(wire, now=date)
    return wire


_FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # a folded line stays under 78
_CONTENT_TYPE = re.compile(r"[a-z]+/[a-z0-9][a-z0-9.+-]*")


def _mixed_boundary(email: OutgoingEmail) -> str:
    digest = hashlib.sha256("\0".join((email.message_id, email.text, email.html)).encode())
    for a in email.attachments:
        digest.update(b"\0" + hashlib.sha256(a.data).digest())
    # "=_rm_" differs from the alternative part's "=_rc_": neither is a prefix of the other.
    return f"=_rm_{digest.hexdigest()[:32]}"


def _mixed_head(email: OutgoingEmail) -> str:
    return f'Content-Type: multipart/mixed;{CRLF} boundary="{_mixed_boundary(email)}"'


def _mixed_body(email: OutgoingEmail, entity_head: str, entity_body: str) -> str:
    """``multipart/mixed``: the text (or text and HTML) entity first, then each attachment,
    base64 in lines of 76. ``entity_body`` starts with the blank line after its header."""
    boundary = _mixed_boundary(email)
    parts = [CRLF + f"--{boundary}" + CRLF + entity_head + CRLF + entity_body]
    for a in email.attachments:
        if not _FILENAME.fullmatch(a.filename):
            raise InvalidInput(
                f"attachment name {a.filename!r} must be up to 64 ASCII letters, digits, . _ -",
                field="attachment",
            )
        if not _CONTENT_TYPE.fullmatch(a.content_type):
            raise InvalidInput(
                f"{a.content_type!r} is not a MIME type such as application/pdf",
                field="attachment",
            )
        data = base64.encodebytes(a.data).decode("ascii").replace("\n", CRLF)
        parts.append(
            f"--{boundary}{CRLF}"
            f'Content-Type: {a.content_type};{CRLF} name="{a.filename}"{CRLF}'
            f'Content-Disposition: attachment;{CRLF} filename="{a.filename}"{CRLF}'
            f"Content-Transfer-Encoding: base64{CRLF}{CRLF}{data}"
        )
    # Each part ends in CRLF: the CRLF before a delimiter belongs to it.
    return "".join(parts) + f"--{boundary}--{CRLF}"


def _part(content: str, subtype: str) -> tuple[str, str]:
    """``(part header lines, body ending in CRLF)`` of one UTF-8 text part."""
    text = content.replace("\r\n", "\n")
    if not text.endswith("\n"):
        text += "\n"
    head = f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}Content-Transfer-Encoding: '
    if text.isascii() and max(map(len, text.split("\n"))) <= FOLD_AT:
        return head + "7bit", text.replace("\n", CRLF)
    raw = text.encode("utf-8")
    qp = binascii.b2a_qp(raw, istext=True).decode("ascii")
    # base64's length is known without encoding (lines of 76 for each 57 bytes): the
    # shorter one is chosen, and base64 built only when it is the one (CJK text).
    n = len(raw)
    if 4 * ((n + 2) // 3) + (n + 56) // 57 < len(qp):
        b64 = base64.encodebytes(raw).decode("ascii")
        return head + "base64", b64.replace("\n", CRLF)
    if not qp.endswith("\n"):  # b2a_qp keeps the input's last line end
        qp += "\n"
    return head + "quoted-printable", qp.replace("\n", CRLF)


def _text_header(name: str, value: str) -> str:
    """``Name: value``, RFC 2047 encoded when not ASCII and folded at 78 columns."""
    line = f"{name}: {value}"
    if value.isascii() and len(line) <= FOLD_AT:
        return line
    encoded = Header(value, None if value.isascii() else "utf-8", header_name=name).encode(
        linesep=CRLF, maxlinelen=FOLD_AT
    )
    return f"{name}: {encoded}"


def mailbox(value: str, field: str, *, utf8: bool = False) -> tuple[str, str]:
    """``(header value, addr-spec)`` of one mailbox such as ``"Shop <shop@example.com>"``.

    Raises :class:`~reclaim.errors.InvalidInput` (``field`` as given) for anything but
    exactly one syntactically valid address, ASCII unless ``utf8`` (RFC 6532: an
    internationalised address, written as it is).
    """
    shown, spec = _mailbox(value, field)
    if not utf8 and not spec.isascii():
        raise InvalidInput(
            f"{field} address {spec!r} must be ASCII user@domain unless sent with SMTPUTF8",
            field=field,
        )
    return shown, spec


@functools.lru_cache(maxsize=4096)
def _mailbox(value: str, field: str) -> tuple[str, str]:
    """:func:`mailbox`, internationalised addresses allowed (one cache for both uses)."""
    _checked(field, value)
    if _PLAIN_ADDRESS.fullmatch(value):
        return value, value  # a bare dot-atom address (a recipient, usually): nothing to parse
    kwds: dict[str, object] = {}
    try:
        AddressHeader.parse(value, kwds)
    except (IndexError, ValueError, TypeError):
        raise InvalidInput(f"{field} {value!r} is not an email address", field=field) from None
    groups = kwds.get("groups", ())
    addresses = [address for group in groups for address in group.addresses]  # type: ignore[attr-defined]
    # A non-ASCII local part is judged below, with the rest of the address.
    defects = [
        d
        for d in kwds.get("defects", ())  # type: ignore[attr-defined]
        if not isinstance(d, NonASCIILocalPartDefect)
    ]
    if len(addresses) != 1 or defects:
        raise InvalidInput(f"{field} must be exactly one email address, not {value!r}", field=field)
    address = addresses[0]
    spec = address.addr_spec
    if not (
        _ADDR_SPEC.fullmatch(spec)
        if spec.isascii()
        else _UTF8_ADDR_SPEC.fullmatch(spec) and spec.isprintable()
    ):
        raise InvalidInput(f"{field} address {spec!r} is not user@domain", field=field)
    name = address.display_name
    if not name:
        return spec, spec
    if name.isascii():
        # formataddr quotes the name as needed but insists on an ASCII address: it is
        # given a stand-in, replaced here by the (maybe internationalised) address.
        return formataddr((name, "a@a"))[: -len("<a@a>")] + f"<{spec}>", spec
    encoded = Header(name, "utf-8", header_name=field).encode(linesep=CRLF, maxlinelen=FOLD_AT)
    return f"{encoded} <{spec}>", spec


def _checked(field: str, value: str, *, allow_newlines: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    probe = value.replace("\r\n", "").replace("\n", "") if allow_newlines else value
    if _CONTROL.search(probe):
        what = "a line break" if ("\r" in probe or "\n" in probe) else "a control character"
        raise InvalidInput(f"{field} contains {what}", field=field)
    return value


def _message_id(value: str) -> str:
    _checked("Message-ID", value)
    if not _MESSAGE_ID.fullmatch(value) or len(value) > MAX_LINE - len("Message-ID: "):
        raise InvalidInput(
            f"Message-ID {value!r} must look like <unique@domain> (ASCII, no spaces)",
            field="Message-ID",
        )
    return value


def _list_unsubscribe(email: OutgoingEmail) -> str:
    url = _checked("List-Unsubscribe", email.list_unsubscribe_url or "")
    if not _URL.fullmatch(url):
        raise InvalidInput(
            f"the unsubscribe URL {url!r} must be an absolute http(s) URL, ASCII, no spaces "
            "(RFC 8058 one-click needs https)",
            field="List-Unsubscribe",
        )
    parts = [f"<{url}>"]
    if email.list_unsubscribe_mailto:
        mailto = _checked("List-Unsubscribe", email.list_unsubscribe_mailto)
        if not mailto.lower().startswith("mailto:"):
            mailto = f"mailto:{mailto}"
        address = mailto[len("mailto:") :].partition("?")[0]
        if not _MAILTO.fullmatch(mailto) or not _ADDR_SPEC.fullmatch(address):
            raise InvalidInput(
                f"the unsubscribe mailto {email.list_unsubscribe_mailto!r} is not an address",
                field="List-Unsubscribe",
            )
        parts.append(f"<{mailto}>")
    for part in parts:
        if len("List-Unsubscribe: ") + len(part) + 1 > MAX_LINE:
            raise InvalidInput(
                f"the unsubscribe URL is longer than a header line may be ({MAX_LINE} octets)",
                field="List-Unsubscribe",
            )
    # One URI per line: a folded header whose lines are never longer than they must be.
    return f",{CRLF} ".join(parts)


def _extra_header(name: str, value: str) -> str:
    if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
        raise InvalidInput(f"{name!r} is not a header field name", field="headers")
    if name.lower() in _RESERVED:
        raise InvalidInput(f"the header {name} is set by the channel itself", field=name)
    _checked(name, value)
    if value.isascii() and len(name) + 2 + len(value) <= MAX_LINE:
        return f"{name}: {value}"
    return _text_header(name, value)
