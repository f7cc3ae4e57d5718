"""DKIM signing cost per message: dkimpy against our ``cryptography`` signer (not a test).

Run: ``.venv/bin/python -m bench.dkim_sign``. Prints the median of five
rounds in milliseconds per message for a typical ~15 KB recovery email.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from reclaim.adapters.channels.dkim import DkimSigner
from reclaim.adapters.channels.email import build_mime
from reclaim.domain.messages import OutgoingEmail

NOW = datetime(2026, 5, 1, 10, tzinfo=UTC)
HEADERS = [
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"mime-version",
    b"content-type",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
]


def per_message(fn: Callable[[], object], n: int) -> float:
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        rounds.append((time.perf_counter() - start) / n * 1000)
    return statistics.median(rounds)


def main() -> None:
    pkcs8 = serialization.PrivateFormat.PKCS8
    rsa_pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, pkcs8, serialization.NoEncryption()
    )
    ed_pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, pkcs8, serialization.NoEncryption()
    )
    email = OutgoingEmail(
        to="Li Wei <li@example.cn>",
        from_address="Boutique <shop@boutique.example>",
        subject="您的购物车还在等您",
        text="你好 Li Wei,\n" * 60,
        html="<table><tr><td style='padding:8px'>商品 Produkt</td></tr></table>\n" * 150,
        message_id="<m1@boutique.example>",
        list_unsubscribe_url="https://boutique.example/u/" + "x" * 60,
        list_unsubscribe_mailto="u@boutique.example",
    )
    raw = build_mime(email, date=NOW)
    ours = DkimSigner("boutique.example", "s1", rsa_pem)
    ours_ed = DkimSigner("boutique.example", "s2", ed_pem, "ed25519-sha256")
    print(f"message: {len(raw)} bytes")

    def dkimpy() -> bytes:
        return dkim.sign(
            raw,
            b"s1",
            b"boutique.example",
            rsa_pem,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=HEADERS,
        )

    rows = [
        ("dkimpy rsa-sha256 (2048)", dkimpy, 40),
        ("ours rsa-sha256 (2048)", lambda: ours.sign(raw, now=NOW), 300),
        ("ours ed25519-sha256", lambda: ours_ed.sign(raw, now=NOW), 300),
        ("build_mime, no DKIM", lambda: build_mime(email, date=NOW), 300),
    ]
    for label, fn, n in rows:
        print(f"{label:<26}{per_message(fn, n):6.2f} ms")


if __name__ == "__main__":
    main()
