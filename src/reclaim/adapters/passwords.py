"""Console passwords hashed with argon2id (argon2-cffi), the OWASP-recommended default."""

from __future__ import annotations

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Argon2Passwords:
    """argon2-cffi's RFC 9106 low-memory profile (64 MiB, 3 passes): about 0.1 s a hash on
    this machine kind, slow for a guesser and quick enough for a person signing in."""

    def __init__(self, hasher: _Argon2 | None = None) -> None:
        self._h = hasher if hasher is not None else _Argon2()

    def hash(self, password: str) -> str:
        return self._h.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return bool(self._h.verify(password_hash, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return bool(self._h.check_needs_rehash(password_hash))
        except InvalidHashError:
            return True
