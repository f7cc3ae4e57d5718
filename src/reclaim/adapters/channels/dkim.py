"""DKIM signing (RFC 6376, relaxed/relaxed) with the ``cryptography`` package.

Why not dkimpy for signing: it does RSA in pure Python and costs 8.4-9.7 ms per message
(2048-bit key, a 15 KB email, our 2-core machine), where this signer, with OpenSSL's RSA
through ``cryptography``, costs 0.8-1.0 ms, about half of it the canonicalisation
(``tests/unit/channels/dkim_timing.py`` measures both). dkimpy stays in the tests as the
independent verifier of what we sign.

Algorithms: ``rsa-sha256`` (RFC 6376; keys of at least 1024 bits, RFC 8301; 2048 advised) and
``ed25519-sha256`` (RFC 8463: Ed25519 over the SHA-256 hash of the canonical header data).
Not every receiver checks ed25519 signatures yet, so RSA is the default; a domain may publish
both selectors.

Input is a whole message in SMTP wire form (CRLF line ends). The signature covers
:data:`SIGNED_HEADERS` that are present, and names :data:`OVERSIGNED` once more than they
occur, so a From, To, Subject, Date, Message-ID or List-Unsubscribe added in transit breaks
the signature instead of riding on it.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from reclaim.errors import InvalidInput

ALGORITHMS = ("rsa-sha256", "ed25519-sha256")
SIGNED_HEADERS = (
    "from",
    "reply-to",
    "to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "list-unsubscribe",
    "list-unsubscribe-post",
)
OVERSIGNED = frozenset(
    ["from", "reply-to", "to", "subject", "date", "message-id", "list-unsubscribe"]
)
MIN_RSA_BITS = 1024

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?"
_DOMAIN_RE = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")
_SELECTOR_RE = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_WSP_RUN = re.compile(rb"[ \t]+")
_FOLD = re.compile(rb"\r\n(?=[ \t])")
_BARE_LF = re.compile(rb"(?<!\r)\n")


class DkimSigner:
    """Signs messages for ``domain`` with the key published at ``selector._domainkey.domain``.

    Raises :class:`~reclaim.errors.InvalidInput` (``field="dkim"``) for a malformed domain or
    selector, an unreadable key, a key that does not match ``algorithm``, or an RSA key under
    1024 bits. Immutable after construction, so one signer may be shared by threads.
    """

    def __init__(
        self,
        domain: str,
        selector: str,
        private_key_pem: bytes,
        algorithm: str = "rsa-sha256",
    ) -> None:
        if not isinstance(domain, str) or not _DOMAIN_RE.fullmatch(domain):
            raise InvalidInput(f"DKIM domain {domain!r} is not a domain name", field="dkim")
        if not isinstance(selector, str) or not _SELECTOR_RE.fullmatch(selector):
            raise InvalidInput(f"DKIM selector {selector!r} is not a DNS label", field="dkim")
        if algorithm not in ALGORITHMS:
            raise InvalidInput(
                f"DKIM algorithm {algorithm!r} is not one of {', '.join(ALGORITHMS)}",
                field="dkim",
            )
        try:
            key = serialization.load_pem_private_key(private_key_pem, password=None)
        except (ValueError, TypeError) as exc:
            raise InvalidInput(
                f"DKIM private key is not an unencrypted PEM key ({exc})", field="dkim"
            ) from None
        if algorithm == "rsa-sha256":
            if not isinstance(key, rsa.RSAPrivateKey):
                raise InvalidInput("rsa-sha256 needs an RSA private key", field="dkim")
            if key.key_size < MIN_RSA_BITS:
                raise InvalidInput(
                    f"DKIM RSA key has {key.key_size} bits; at least {MIN_RSA_BITS} are "
                    "required (RFC 8301), 2048 advised",
                    field="dkim",
                )
        elif not isinstance(key, ed25519.Ed25519PrivateKey):
            raise InvalidInput("ed25519-sha256 needs an Ed25519 private key", field="dkim")
        self.domain = domain.lower()
        self.selector = selector.lower()
        self.algorithm = algorithm
        self._key = key

    @classmethod
    def from_files(
        cls, domain: str, selector: str, key_path: str | Path, algorithm: str = "rsa-sha256"
    ) -> DkimSigner:
        """A signer whose private key is read from the PEM file at ``key_path``."""
        try:
            pem = Path(key_path).read_bytes()
        except OSError as exc:
            raise InvalidInput(
                f"cannot read the DKIM key file {str(key_path)!r}: {exc.strerror}", field="dkim"
            ) from None
        return cls(domain, selector, pem, algorithm)

    @property
    def dns_name(self) -> str:
        """The DNS name the operator publishes the public key at (a TXT record)."""
        return f"{self.selector}._domainkey.{self.domain}"

    def dns_record(self) -> str:
        """The TXT record value to publish at :attr:`dns_name`: ``v=DKIM1; k=rsa; p=…``."""
        public = self._key.public_key()
        if isinstance(public, ed25519.Ed25519PublicKey):
            kind = "ed25519"
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        else:
            kind = "rsa"
            raw = public.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        return f"v=DKIM1; k={kind}; p={base64.b64encode(raw).decode('ascii')}"

    def sign(self, message: bytes, *, now: datetime) -> bytes:
        """``message`` with a ``DKIM-Signature`` header (``t=`` from ``now``) put in front."""
        return self.signature_header(message, now=now) + message

    def signature_header(self, message: bytes, *, now: datetime) -> bytes:
        """The ``DKIM-Signature: …\\r\\n`` header line for ``message`` (CRLF wire form)."""
        if now.tzinfo is None:
            raise InvalidInput("the signing time must be timezone-aware", field="now")
        if _BARE_LF.search(message):
            raise InvalidInput("the message must use CRLF line ends", field="message")
        head, sep, body = message.partition(b"\r\n\r\n")
        if not sep:
            # A message of headers only: RFC 5322 still has an (empty) body.
            head, body = message.removesuffix(b"\r\n"), b""
        fields = _header_fields(head)
        names = [name for name, _ in fields]
        signed: list[str] = []
        for name in SIGNED_HEADERS:
            count = names.count(name) + (1 if name in OVERSIGNED else 0)
            if names.count(name):
                signed.extend([name] * count)
        body_hash = base64.b64encode(hashlib.sha256(canonical_body(body)).digest())
        prefix = (
            f"DKIM-Signature: v=1; a={self.algorithm}; c=relaxed/relaxed; d={self.domain};"
            f" s={self.selector};\r\n t={int(now.timestamp())}; h={':'.join(signed)};\r\n"
            f" bh={body_hash.decode('ascii')};\r\n b="
        ).encode("ascii")
        data = _signed_header_data(fields, signed) + canonical_header(prefix).removesuffix(b"\r\n")
        signature = base64.b64encode(self._signature(data))
        folded = b"\r\n ".join(signature[i : i + 72] for i in range(0, len(signature), 72))
        return prefix + folded + b"\r\n"

    def _signature(self, data: bytes) -> bytes:
        key = self._key
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        assert isinstance(key, ed25519.Ed25519PrivateKey)
        return key.sign(hashlib.sha256(data).digest())


def canonical_header(field: bytes) -> bytes:
    """The relaxed canonical form of one raw header field (RFC 6376 §3.4.2), with CRLF."""
    name, _, value = field.partition(b":")
    value = _WSP_RUN.sub(b" ", _FOLD.sub(b"", value)).strip(b" ")
    return name.strip(b" \t").lower() + b":" + value + b"\r\n"


def canonical_body(body: bytes) -> bytes:
    """The relaxed canonical form of a CRLF body (RFC 6376 §3.4.4); empty stays empty."""
    lines = body.split(b"\r\n")
    for i, line in enumerate(lines):
        # Most lines of a QP or base64 body need nothing: skip the regex for them.
        collapsed = _WSP_RUN.sub(b" ", line) if b"\t" in line or b"  " in line else line
        lines[i] = collapsed.rstrip(b" \t")
    while lines and not lines[-1]:
        lines.pop()
    return b"\r\n".join(lines) + b"\r\n" if lines else b""


def _header_fields(head: bytes) -> list[tuple[str, bytes]]:
    """The header block as ``(lower-case name, raw field without the final CRLF)`` pairs."""
    fields: list[tuple[str, bytes]] = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and fields:
            name, raw = fields[-1]
            fields[-1] = (name, raw + b"\r\n" + line)
        else:
            name = line.partition(b":")[0].strip(b" \t").lower().decode("ascii", "replace")
            fields.append((name, line))
    return fields


def _signed_header_data(fields: Sequence[tuple[str, bytes]], signed: Sequence[str]) -> bytes:
    """Canonical headers in ``h=`` order, each name taking its instances from the bottom up;
    a name listed more often than it occurs contributes nothing (RFC 6376 §5.4.2)."""
    used: dict[str, int] = {}
    out: list[bytes] = []
    for name in signed:
        instances = [raw for field_name, raw in fields if field_name == name]
        taken = used.get(name, 0)
        if taken < len(instances):
            out.append(canonical_header(instances[-1 - taken]))
        used[name] = taken + 1
    return b"".join(out)
