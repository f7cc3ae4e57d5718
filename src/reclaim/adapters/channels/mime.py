"""The wire form of a recovery email: :func:`build_mime` (RFC 5322, MIME, RFC 2047, RFC 8058).

Layout: ``multipart/alternative`` with ``text/plain`` then ``text/html`` (a text-only message
when ``html`` is empty), both UTF-8; the stdlib chooses quoted-printable or base64 per part,
and nothing 8-bit is ever emitted, so no relay needs 8BITMIME. Line ends are CRLF.

Headers are written in a fixed order: From, To, Reply-To (if given), Subject, Date,
Message-ID, List-Unsubscribe, List-Unsubscribe-Post, the caller's extra headers, MIME-Version,
Content-Type. Display names and the Subject are RFC 2047 encoded when they are not ASCII.
Message-ID, Date and List-Unsubscribe are written verbatim: the stdlib folder would otherwise
turn a long unsubscribe URL into an encoded word, which no mail client reads as a URL.

Addresses must be ASCII (``user@example.com``; a display name may be anything): an
internationalised mailbox needs SMTPUTF8, which this channel does not speak. A value with a
line break or another control character is refused (:class:`~reclaim.errors.InvalidInput`
naming the header): header injection is impossible by construction.
"""

from __future__ import annotations

import email.policy
import hashlib
import re
from datetime import UTC, datetime
from email.headerregistry import AddressHeader
from email.message import EmailMessage
from email.utils import format_datetime

from reclaim.adapters.channels.dkim import DkimSigner
from reclaim.domain.messages import OutgoingEmail
from reclaim.errors import InvalidInput

# Parts are encoded under a 7-bit policy (no 8bit CTE); serialisation keeps verbatim ("raw")
# header values as they are and folds the others at 78 columns.
_BUILD = email.policy.SMTP.clone(cte_type="7bit")
_WIRE = email.policy.SMTP.clone(cte_type="7bit", refold_source="none")
_PARSE = email.policy.default

MAX_LINE = 998  # RFC 5322 §2.1.1, octets per line without the CRLF
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_FIELD_NAME = re.compile(r"[!-9;-~]+")
_MESSAGE_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>")
_URL = re.compile(r"https?://[!-;=?-~]+", re.IGNORECASE)
_ADDR_SPEC = re.compile(r"[!-;=?-~]+@[A-Za-z0-9.-]+")
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


def build_mime(email: OutgoingEmail, *, dkim: DkimSigner | None = None, date: datetime) -> bytes:
    """The message as SMTP ``DATA`` bytes, DKIM-signed (``t=`` is ``date``) when ``dkim``.

    ``date`` (aware) is the Date header, written in UTC. The MIME boundary is derived from
    the content, so the same email and date always give the same bytes. Raises
    :class:`~reclaim.errors.InvalidInput` naming the first bad field.
    """
    if date.tzinfo is None:
        raise InvalidInput("the Date must be timezone-aware", field="date")
    from_header, _ = mailbox(email.from_address, "From")
    to_header, _ = mailbox(email.to, "To")
    msg = EmailMessage(policy=_BUILD)
    msg["From"] = from_header
    msg["To"] = to_header
    if email.reply_to:
        msg["Reply-To"] = mailbox(email.reply_to, "Reply-To")[0]
    msg["Subject"] = _checked("Subject", email.subject)
    msg.set_raw("Date", format_datetime(date.astimezone(UTC)))
    msg.set_raw("Message-ID", _message_id(email.message_id))
    msg.set_raw("List-Unsubscribe", _list_unsubscribe(email))
    msg.set_raw("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    for name, value in email.headers:
        _extra_header(msg, name, value)
    _checked("text", email.text, allow_newlines=True)
    msg.set_content(email.text, subtype="plain", charset="utf-8")
    if email.html:
        _checked("html", email.html, allow_newlines=True)
        msg.add_alternative(email.html, subtype="html", charset="utf-8")
        for part in msg.iter_parts():
            # add_alternative gives the new part a MIME-Version of its own; only the top has one.
            del part["MIME-Version"]
        digest = hashlib.sha256(
            "\0".join((email.message_id, email.text, email.html)).encode("utf-8")
        ).hexdigest()
        # "=_" cannot occur in quoted-printable or base64 output, and a 7bit part would have
        # to contain the hash of itself.
        msg.set_boundary(f"=_rc_{digest[:32]}")
    wire = msg.as_bytes(policy=_WIRE)
    if dkim is not None:
        wire = dkim.sign(wire, now=date)
    return wire


def mailbox(value: str, field: str) -> tuple[str, str]:
    """``(header value, addr-spec)`` of one mailbox such as ``"Shop <shop@example.com>"``.

    Raises :class:`~reclaim.errors.InvalidInput` (``field`` as given) for anything but
    exactly one syntactically valid ASCII address.
    """
    _checked(field, value)
    kwds: dict[str, object] = {}
    try:
        AddressHeader.parse(value, kwds)
    except (IndexError, ValueError, TypeError):
        raise InvalidInput(f"{field} {value!r} is not an email address", field=field) from None
    groups = kwds.get("groups", ())
    addresses = [address for group in groups for address in group.addresses]  # type: ignore[attr-defined]
    if len(addresses) != 1 or kwds.get("defects"):
        raise InvalidInput(f"{field} must be exactly one email address, not {value!r}", field=field)
    address = addresses[0]
    spec = address.addr_spec
    if not spec.isascii() or not _ADDR_SPEC.fullmatch(spec):
        raise InvalidInput(
            f"{field} address {spec!r} must be ASCII user@domain (no SMTPUTF8 support)",
            field=field,
        )
    return str(address), spec


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
    url = _checked("List-Unsubscribe", email.list_unsubscribe_url)
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
    return ",\n ".join(parts)


def _extra_header(msg: EmailMessage, name: str, value: str) -> None:
    if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
        raise InvalidInput(f"{name!r} is not a header field name", field="headers")
    if name.lower() in _RESERVED:
        raise InvalidInput(f"the header {name} is set by the channel itself", field=name)
    _checked(name, value)
    if value.isascii() and len(name) + 2 + len(value) <= MAX_LINE:
        msg.set_raw(name, value)
    else:
        msg[name] = value  # RFC 2047 encoded and folded by the stdlib
