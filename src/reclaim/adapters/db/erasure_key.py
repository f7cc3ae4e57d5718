"""The key erased customers' addresses are hashed with (``domain.privacy.keyed_hash``):
derived from ``RECLAIM_SECRET_KEY``, else from the secret ``reclaim init`` keeps in the
database, read once per process through the session that first needs it (inside its
transaction: no second connection waiting on the first's lock)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.adapters.db.tables import meta
from reclaim.domain.privacy import erasure_key


class ErasureKey:
    def __init__(self, secret: str | None = None) -> None:
        self._secret = secret
        self._key: bytes | None = None

    def get(self, session: Session) -> bytes | None:
        """The key; ``None`` where the install has no secret yet (then nothing can have been
        erased under one)."""
        if self._key is None:
            secret = (
                self._secret
                or session.execute(select(meta.c.value).where(meta.c.key == "secret_key")).scalar()
            )
            if secret:
                self._key = erasure_key(str(secret))
        return self._key
