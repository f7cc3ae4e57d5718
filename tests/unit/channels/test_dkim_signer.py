"""DkimSigner: what it signs, dkimpy (an independent implementation) verifies."""

from __future__ import annotations

import base64
import email
import email.policy
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import dkim
import pytest
from channel_servers import SmtpServer
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from reclaim.adapters.channels.dkim import DkimSigner, canonical_body, canonical_header
from reclaim.adapters.channels.email import SmtpEmailSender, build_mime
from reclaim.domain.messages import OutgoingEmail
from reclaim.errors import InvalidInput

NOW = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
MESSAGE = OutgoingEmail(
    to="customer@example.com",
    from_address="Boutique <shop@boutique.example>",
    subject="Your cart is waiting",
    text="Hello,\n\nyour cart is still here: https://boutique.example/r/1\n",
    html="<p>Hello,</p><p>your cart is still here.</p>",
    message_id="<m1@boutique.example>",
    list_unsubscribe_url="https://boutique.example/u/t1",
    list_unsubscribe_mailto="unsubscribe@boutique.example",
    reply_to="help@boutique.example",
)
NON_ASCII = replace(
    MESSAGE,
    to="李伟 <li@example.cn>",
    from_address="ブティック <shop@boutique.example>",
    subject="您的购物车还在等您 — カートに商品が残っています",
    text="你好，\n\n您的商品还在购物车里。\nGrüße ✓\n",
    html="<p>你好</p><p>カート</p>",
)


def pem(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture(scope="module")
def rsa_pem() -> bytes:
    return pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="module")
def signer(rsa_pem: bytes) -> DkimSigner:
    return DkimSigner("boutique.example", "reclaim2026", rsa_pem)


def dns_of(*signers: DkimSigner) -> Callable[..., bytes | None]:
    records = {f"{s.dns_name}.".encode(): s.dns_record().encode() for s in signers}

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
        return records.get(name)

    return dnsfunc


def tags(signed: bytes) -> dict[str, str]:
    header = re.search(rb"^DKIM-Signature:(.*?)\r\n(?! )", signed, re.S | re.M)
    assert header is not None
    value = re.sub(r"\s+", "", header.group(1).decode())
    return dict(item.split("=", 1) for item in value.split(";") if item)


@pytest.mark.parametrize("message", [MESSAGE, NON_ASCII], ids=["ascii", "non-ascii"])
def test_dkimpy_verifies_what_we_sign(signer: DkimSigner, message: OutgoingEmail) -> None:
    signed = build_mime(message, dkim=signer, date=NOW)
    assert signed.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;")
    assert dkim.verify(signed, dnsfunc=dns_of(signer)) is True


def test_the_signature_covers_the_required_headers(signer: DkimSigner) -> None:
    found = tags(build_mime(MESSAGE, dkim=signer, date=NOW))
    assert found["d"] == "boutique.example"
    assert found["s"] == "reclaim2026"
    assert found["t"] == str(int(NOW.timestamp()))
    assert found["h"].split(":") == [
        "from",
        "from",
        "reply-to",
        "reply-to",
        "to",
        "to",
        "subject",
        "subject",
        "date",
        "date",
        "message-id",
        "message-id",
        "mime-version",
        "content-type",
        "list-unsubscribe",
        "list-unsubscribe",
        "list-unsubscribe-post",
    ]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"your cart is still here", b"your cart is still gone"),
        (b"Subject: Your cart is waiting", b"Subject: Your cart is waiting!"),
        (b"<https://boutique.example/u/t1>", b"<https://evil.example/u/t1>"),
        (b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b"List-Unsubscribe-Post: x"),
        (b"To: customer@example.com", b"To: other@example.com"),
        (b"Date: Fri, 01 May 2026", b"Date: Sat, 02 May 2026"),
    ],
)
def test_a_message_altered_after_signing_fails(signer: DkimSigner, old: bytes, new: bytes) -> None:
    signed = build_mime(MESSAGE, dkim=signer, date=NOW)
    assert base64.b64encode(b"your cart is still here") not in signed  # the body is 7bit text
    assert old in signed
    assert dkim.verify(signed.replace(old, new), dnsfunc=dns_of(signer)) is False


def test_an_added_from_header_breaks_the_signature(signer: DkimSigner) -> None:
    signed = build_mime(MESSAGE, dkim=signer, date=NOW)
    head, body = signed.split(b"\r\n\r\n", 1)
    forged = head + b"\r\nFrom: ceo@bank.example\r\n\r\n" + body
    assert dkim.verify(forged, dnsfunc=dns_of(signer)) is False


def test_relaxed_canonicalisation_survives_a_relay_rewrapping(signer: DkimSigner) -> None:
    signed = build_mime(NON_ASCII, dkim=signer, date=NOW)
    head, body = signed.split(b"\r\n\r\n", 1)
    # A relay refolds with tabs, pads header values and adds trailing spaces and blank lines.
    rewrapped = (
        head.replace(b"\r\n ", b"\r\n\t").replace(b"Subject: ", b"Subject:   ")
        + b"\r\n\r\n"
        + body.replace(b"\r\n", b"  \r\n")
        + b"\r\n\r\n"
    )
    assert rewrapped != signed
    assert dkim.verify(rewrapped, dnsfunc=dns_of(signer)) is True


def test_the_wrong_published_key_fails(signer: DkimSigner) -> None:
    other = DkimSigner(
        "boutique.example",
        "reclaim2026",
        pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    )
    signed = build_mime(MESSAGE, dkim=signer, date=NOW)
    assert dkim.verify(signed, dnsfunc=dns_of(other)) is False


class _VerifyKey:
    """pynacl's VerifyKey, as dkimpy uses it, on top of ``cryptography`` (pynacl is absent)."""

    def __init__(self, key: bytes, encoder: object) -> None:
        self._key = ed25519.Ed25519PublicKey.from_public_bytes(base64.b64decode(key))

    def verify(self, message: bytes, signature: bytes) -> bytes:
        self._key.verify(signature, message)
        return message


NACL = SimpleNamespace(
    signing=SimpleNamespace(VerifyKey=_VerifyKey),
    encoding=SimpleNamespace(Base64Encoder=object()),
    exceptions=SimpleNamespace(ValueError=ValueError, BadSignatureError=InvalidSignature),
)


def test_ed25519_sha256_verifies_and_detects_tampering(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dkim, "nacl", NACL, raising=False)
    signer = DkimSigner(
        "boutique.example", "ed2026", pem(ed25519.Ed25519PrivateKey.generate()), "ed25519-sha256"
    )
    assert signer.dns_record().startswith("v=DKIM1; k=ed25519; p=")
    signed = build_mime(NON_ASCII, dkim=signer, date=NOW)
    assert tags(signed)["a"] == "ed25519-sha256"
    assert dkim.verify(signed, dnsfunc=dns_of(signer)) is True
    tampered = signed.replace(b"Message-ID: <m1@", b"Message-ID: <m2@")
    assert dkim.verify(tampered, dnsfunc=dns_of(signer)) is False


def test_sent_over_smtp_the_signature_still_verifies(
    signer: DkimSigner, smtp_server: Callable[..., SmtpServer]
) -> None:
    server = smtp_server()
    with SmtpEmailSender(server.url(), dkim=signer, local_hostname="reclaim.test") as smtp:
        smtp.send(NON_ASCII, now=NOW)
    [received] = server.handler.messages
    assert dkim.verify(received.content, dnsfunc=dns_of(signer)) is True
    parsed = email.message_from_bytes(received.content, policy=email.policy.default)
    assert parsed["Subject"] == NON_ASCII.subject


def test_dns_record_is_the_public_key(signer: DkimSigner, rsa_pem: bytes) -> None:
    record = signer.dns_record()
    assert record.startswith("v=DKIM1; k=rsa; p=")
    key = serialization.load_der_public_key(base64.b64decode(record.split("p=")[1]))
    private = serialization.load_pem_private_key(rsa_pem, password=None)
    assert isinstance(key, rsa.RSAPublicKey) and isinstance(private, rsa.RSAPrivateKey)
    assert key.public_numbers() == private.public_key().public_numbers()
    assert signer.dns_name == "reclaim2026._domainkey.boutique.example"


def test_from_files(tmp_path: Path, rsa_pem: bytes) -> None:
    path = tmp_path / "dkim.pem"
    path.write_bytes(rsa_pem)
    signer = DkimSigner.from_files("Boutique.Example", "S1", path)
    assert (signer.domain, signer.selector) == ("boutique.example", "s1")
    with pytest.raises(InvalidInput) as err:
        DkimSigner.from_files("boutique.example", "s1", tmp_path / "missing.pem")
    assert err.value.field == "dkim"
    assert "cannot read the DKIM key file" in str(err.value)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("boutique", "s1"), "not a domain name"),
        (("boutique.example", "bad selector"), "not a DNS label"),
        (("boutique.example", "s1", "rsa-sha1"), "not one of rsa-sha256, ed25519-sha256"),
        (("boutique.example", "s1", "ed25519-sha256"), "needs an Ed25519 private key"),
    ],
)
def test_bad_configuration_is_refused(rsa_pem: bytes, args: tuple[str, ...], words: str) -> None:
    domain, selector, *algorithm = args
    with pytest.raises(InvalidInput) as err:
        DkimSigner(domain, selector, rsa_pem, *algorithm)
    assert err.value.field == "dkim"
    assert words in str(err.value)


def test_a_key_that_is_not_pem_or_not_rsa_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not an unencrypted PEM key"):
        DkimSigner("boutique.example", "s1", b"-----BEGIN PRIVATE KEY-----\nnope\n")
    ed_pem = pem(ed25519.Ed25519PrivateKey.generate())
    with pytest.raises(InvalidInput, match="rsa-sha256 needs an RSA private key"):
        DkimSigner("boutique.example", "s1", ed_pem)


def test_signing_needs_crlf_and_an_aware_time(signer: DkimSigner) -> None:
    with pytest.raises(InvalidInput) as err:
        signer.sign(b"From: a@b.example\nSubject: x\n\nbody\n", now=NOW)
    assert err.value.field == "message"
    with pytest.raises(InvalidInput) as err:
        signer.sign(b"From: a@b.example\r\n\r\nbody\r\n", now=datetime(2026, 5, 1))
    assert err.value.field == "now"


@pytest.mark.parametrize(
    ("body", "canonical"),
    [
        (b"", b""),
        (b"\r\n", b""),
        (b"\r\n\r\n\r\n", b""),
        (b"x", b"x\r\n"),
        (b"a  b \t\r\n\r\n", b"a b\r\n"),
        (b" lead\r\n\tc \r\n \r\n", b" lead\r\n c\r\n"),
        (b"one\r\n\r\ntwo\r\n", b"one\r\n\r\ntwo\r\n"),
    ],
)
def test_canonical_body(body: bytes, canonical: bytes) -> None:
    assert canonical_body(body) == canonical


@pytest.mark.parametrize(
    ("field", "canonical"),
    [
        (b"SubJect :  Hello \r\n\t World  ", b"subject:Hello World\r\n"),
        (b"To:a@b.example", b"to:a@b.example\r\n"),
        (b"X-Empty:", b"x-empty:\r\n"),
    ],
)
def test_canonical_header(field: bytes, canonical: bytes) -> None:
    assert canonical_header(field) == canonical


def test_a_message_to_an_internationalised_address_verifies(signer: DkimSigner) -> None:
    message = replace(NON_ASCII, to="李伟 <用户@例子.广告>")
    signed = build_mime(message, dkim=signer, date=NOW, smtputf8=True)
    assert "用户@例子.广告".encode() in signed
    assert dkim.verify(signed, dnsfunc=dns_of(signer)) is True
    assert (
        dkim.verify(signed.replace("用户".encode(), "用戶".encode()), dnsfunc=dns_of(signer))
        is False
    )
