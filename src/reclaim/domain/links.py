"""Signed link tokens, safe redirect destinations and UTM tagging (SPEC S4).

Every link in a recovery message goes through Reclaim's tracking endpoints: a click redirect,
the restore link, the open pixel and unsubscribe. Their tokens are signed here so nobody can
forge one, and the click redirect only ever goes to the store's own hosts
(:func:`safe_destination`): Reclaim must never be an open redirect.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import unicodedata
from collections.abc import Collection, Mapping
from datetime import datetime
from encodings import idna
from urllib.parse import quote, unquote_plus

from reclaim.errors import AuthError, InvalidInput

TOKEN_MAX_LENGTH = 2048
URL_MAX_LENGTH = 2048
_MAC_BYTES = 16  # 128 bits of HMAC-SHA256: forging one is a 2^-128 guess per try
_KEY_MIN_BYTES = 16
_TOKEN = re.compile(r"[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{22}")  # 22: 16 bytes, unpadded
_INVALID = "link is invalid"


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _mac(body: str, key: bytes) -> str:
    digest = hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()
    return _b64encode(digest[:_MAC_BYTES])


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) < _KEY_MIN_BYTES:
        raise InvalidInput(f"signing key must be at least {_KEY_MIN_BYTES} bytes", field="key")


def sign_token(payload: Mapping[str, str | int], *, key: bytes) -> str:
    """A URL-safe token carrying ``payload``: ``base64url(compact JSON) "." base64url(MAC)``.

    The MAC is HMAC-SHA256 over the encoded body, truncated to 128 bits. Keys are sorted, so
    the same payload always gives the same token. An ``exp`` entry (unix seconds) makes
    :func:`verify_token` refuse the token from that instant on. The payload is readable by
    anyone holding the link: put identifiers in it, never personal data.

    Raises :class:`InvalidInput` for a key under 16 bytes, a non-string key, a value that is
    neither ``str`` nor ``int``, or a token that would exceed :data:`TOKEN_MAX_LENGTH`.
    """
    _check_key(key)
    for name, value in payload.items():
        if not isinstance(name, str) or isinstance(value, bool) or not isinstance(value, str | int):
            raise InvalidInput("token payload must map strings to strings or ints", field="payload")
    raw = json.dumps(dict(payload), separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    body = _b64encode(raw.encode("utf-8"))
    token = f"{body}.{_mac(body, key)}"
    if len(token) > TOKEN_MAX_LENGTH:
        raise InvalidInput("token payload is too large", field="payload")
    return token


def _storable(value: object) -> bool:
    """A payload value any database can look up: a 64-bit integer or text without NUL."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return isinstance(value, str) and "\x00" not in value


def verify_token(token: str, *, key: bytes, now: datetime | None = None) -> dict[str, str | int]:
    """The payload of a token made by :func:`sign_token` with the same ``key``.

    Raises :class:`AuthError` ("link is invalid", the same message whatever the cause, so the
    answer tells an attacker nothing) for a token that is too long (checked before any
    decoding), malformed, truncated, tampered with or signed with another key, and, when
    ``now`` is given, for one whose ``exp`` is at or before ``now``. Without ``now`` the expiry
    is not checked. ``now`` must be aware.
    """
    _check_key(key)
    if now is not None and now.utcoffset() is None:
        raise InvalidInput("now must be an aware datetime", field="now")
    if not isinstance(token, str) or len(token) > TOKEN_MAX_LENGTH:
        raise AuthError(_INVALID)
    if not _TOKEN.fullmatch(token):
        raise AuthError(_INVALID)
    body, mac = token.split(".")
    # Comparing the text, not the decoded bytes, also refuses non-canonical base64 spellings.
    if not hmac.compare_digest(_mac(body, key), mac):
        raise AuthError(_INVALID)
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("utf-8"))
    except (binascii.Error, ValueError):  # UnicodeDecodeError and JSONDecodeError included
        raise AuthError(_INVALID) from None
    if not isinstance(data, dict) or not all(_storable(v) for v in data.values()):
        raise AuthError(_INVALID)
    payload: dict[str, str | int] = data
    if now is not None and "exp" in payload:
        exp = payload["exp"]
        if not isinstance(exp, int) or now.timestamp() >= exp:
            raise AuthError(_INVALID)
    return payload


# --- safe redirects -------------------------------------------------------------------------

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")
_OTHER_DOTS = ("\u3002", "\uff0e", "\uff61")
_PORT = re.compile(r"[0-9]{1,5}")
_DEFAULT_PORT = {"http": 80, "https": 443}
# Left as they are in path, query and fragment; everything else is percent-encoded (UTF-8).
# "%" stays so existing escapes survive; quotes, angle brackets, braces, "|", "^" and "`"
# are encoded so the result is also safe inside an HTML attribute or a Location header.
_URL_SAFE = "!$%&'()*+,-./:;=?@[]~_#"


_ASCII_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\]")


def _has_forbidden_char(text: str) -> bool:
    """Controls, format characters (zero-width, bidi), separators, surrogates, backslash.

    Browsers silently drop tabs and newlines inside URLs, strip leading and trailing controls
    and spaces, and read ``\\`` as ``/``: each of those has turned an innocent-looking URL
    into a redirect elsewhere, so none of them is accepted anywhere in a destination.
    """
    if text.isascii():  # the common case, by one scan: C is 0x00-0x1F and 0x7F, Z is space
        return _ASCII_FORBIDDEN.search(text) is not None
    return any(ch == "\\" or unicodedata.category(ch)[0] in "CZ" for ch in text)


def _ascii_label(label: str) -> str | None:
    """One host label as lower-case ASCII (an IDNA A-label), or None when it is not valid.

    A Unicode label is accepted only when nameprep leaves it unchanged: then IDNA 2003 (the
    stdlib codec) and the UTS 46 processing browsers apply agree on its A-label. A label that
    nameprep would map (non-ASCII upper case, full-width letters, ``ß``, final sigma,
    ignorables) is refused rather than guessed at, because there the two disagree and the
    browser could end up on another host than the one checked.
    """
    # ASCII letters fold the same way everywhere; other characters are nameprep's business.
    label = "".join(ch.lower() if ch.isascii() else ch for ch in label)
    if not label.isascii():
        try:
            if idna.nameprep(label) != label:
                return None
            label = idna.ToASCII(label).decode("ascii")
        except UnicodeError:
            return None
    if not _LABEL.fullmatch(label):
        return None
    if label.startswith("xn--"):
        try:
            idna.ToUnicode(label)
        except UnicodeError:
            return None
    return label


def normalise_host(host: str) -> str | None:
    """``host`` as lower-case ASCII (IDNA A-labels), or None when it is not a DNS name.

    Refused: empty labels, the ideographic and full-width full stops, a trailing dot
    (``shop.example.``: refused rather than read as ``shop.example``, one spelling per host),
    percent escapes, underscores, IP literals (IPv6 brackets, dotted, decimal, octal or hex
    IPv4 forms such as ``0x7f.1``: WHATWG parses any host whose last label is a number as an
    IPv4 address), anything over 253 characters, and anything that is not a string.
    """
    if not isinstance(host, str) or not host or len(host) > 253 or _has_forbidden_char(host):
        return None
    if any(dot in host for dot in _OTHER_DOTS):
        return None  # label separators in IDNA: "a。b" is "a.b" to a browser
    labels = []
    for part in host.split("."):
        label = _ascii_label(part)
        if label is None:
            return None
        labels.append(label)
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        return None
    result = ".".join(labels)
    return result if len(result) <= 253 else None


def host_allowed(host: str, allowed_hosts: Collection[str]) -> bool:
    """Whether normalised ``host`` is one of ``allowed_hosts`` or a subdomain of one.

    Matching is by whole labels: ``shop.example`` allows ``www.shop.example`` but never
    ``evilshop.example`` or ``shop.example.evil.com``. Allowed hosts that are not valid DNS
    names are ignored.
    """
    for entry in allowed_hosts:
        allowed = normalise_host(entry)
        if allowed is not None and (host == allowed or host.endswith("." + allowed)):
            return True
    return False


def safe_destination(
    url: str, *, allowed_hosts: Collection[str], base: str | None = None
) -> str | None:
    """The normalised absolute URL when it may be redirected to, else None. Never raises.

    Accepted: ``http://`` or ``https://`` followed by a host that :func:`host_allowed` allows,
    an optional numeric port, and any path, query and fragment. The result has a lower-case
    scheme and host (IDNA A-labels), no default port, a path that starts with ``/``, and every
    character outside printable ASCII (and ``"<>`^{|}``) percent-encoded as UTF-8.

    Refused (None): other schemes (``javascript:``, ``data:``…), scheme-relative
    (``//host``) and scheme-without-slashes (``https:host``) forms, userinfo (anything with
    ``@`` before the path), percent escapes in the host or port, ``\\``, whitespace or
    control characters anywhere (including leading and trailing: a caller that wants them
    stripped strips them first), invalid ports, the host forms :func:`normalise_host`
    refuses, and inputs or results longer than :data:`URL_MAX_LENGTH`.

    Relative destinations are resolved only when ``base`` is given explicitly (the store's
    primary URL, itself checked by this function) and only in absolute-path form (``/cart``,
    ``/p?id=1``): they keep the base's scheme, host and port. Other relative forms (``cart``,
    ``../x``, ``?q=1``) are refused.
    """
    if not isinstance(url, str) or len(url) > URL_MAX_LENGTH or _has_forbidden_char(url):
        return None
    if url.startswith("/") and not url.startswith("//"):
        if base is None:
            return None
        origin = safe_destination(base, allowed_hosts=allowed_hosts)
        if origin is None:
            return None
        scheme_end = origin.index("://") + 3
        path_start = origin.find("/", scheme_end)
        return safe_destination(origin[:path_start] + url, allowed_hosts=allowed_hosts)
    m = _SCHEME.match(url)
    if m is None:
        return None
    scheme = m.group(1).lower()
    rest = url[m.end() :]
    if scheme not in _DEFAULT_PORT or not rest.startswith("//") or rest.startswith("///"):
        return None
    rest = rest[2:]
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    if "@" in authority or "%" in authority:
        return None
    host_part, colon, port_text = authority.partition(":")
    port = ""
    if colon:
        if not _PORT.fullmatch(port_text) or not 0 < int(port_text) <= 65535:
            return None
        if int(port_text) != _DEFAULT_PORT[scheme]:
            port = f":{int(port_text)}"
    host = normalise_host(host_part)
    if host is None or not host_allowed(host, allowed_hosts):
        return None
    if not tail.startswith("/"):
        tail = "/" + tail
    result = f"{scheme}://{host}{port}{quote(tail, safe=_URL_SAFE)}"
    return result if len(result) <= URL_MAX_LENGTH else None


# --- UTM tagging ----------------------------------------------------------------------------

_UTM_KEYS = frozenset({"utm_source", "utm_medium", "utm_campaign", "utm_content"})


def with_utm(
    url: str, *, source: str, medium: str, campaign: str, content: str | None = None
) -> str:
    """``url`` with ``utm_source``, ``utm_medium``, ``utm_campaign`` (and ``utm_content``) set.

    Any earlier values of those four are removed, ``utm_content`` included when ``content``
    is None (a stale one would credit another campaign); every other query parameter is kept
    byte for byte and in order, and so is the fragment. Values are percent-encoded. Raises
    :class:`InvalidInput` when source, medium or campaign is empty.
    """
    for name, value in (("source", source), ("medium", medium), ("campaign", campaign)):
        if not value:
            raise InvalidInput(f"utm_{name} must not be empty", field=name)
    head, hash_mark, fragment = url.partition("#")
    path, _, query = head.partition("?")
    kept = [
        part
        for part in query.split("&")
        if part and unquote_plus(part.partition("=")[0]).lower() not in _UTM_KEYS
    ]
    tags = [("utm_source", source), ("utm_medium", medium), ("utm_campaign", campaign)]
    if content is not None:
        tags.append(("utm_content", content))
    kept.extend(f"{name}={quote(value, safe='')}" for name, value in tags)
    return f"{path}?{'&'.join(kept)}{hash_mark}{fragment}"
