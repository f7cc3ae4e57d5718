"""SQLAlchemy repository for the console's users, their store grants and their sessions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, insert, select, update
from sqlalchemy.orm import Session

from reclaim.adapters.db.tables import console_sessions, user_stores, users
from reclaim.domain.users import ConsoleSession, Role, User


class SqlUsers:
    def __init__(self, session: Session) -> None:
        self.s = session

    def _grants(self, ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
        found: dict[int, list[str]] = {i: [] for i in ids}
        if ids:
            q = (
                select(user_stores.c.user_id, user_stores.c.store_id)
                .where(user_stores.c.user_id.in_(ids))
                .order_by(user_stores.c.store_id)
            )
            for uid, sid in self.s.execute(q):
                found[uid].append(sid)
        return {i: tuple(v) for i, v in found.items()}

    def _users(self, rows: Sequence[Any]) -> list[User]:
        grants = self._grants([r.id for r in rows])
        return [
            User(
                id=r.id,
                email=r.email,
                name=r.name,
                role=Role(r.role),
                password_hash=r.password_hash,
                locale=r.locale,
                timezone=r.timezone,
                created_at=r.created_at,
                disabled_at=r.disabled_at,
                last_login_at=r.last_login_at,
                stores=grants[r.id],
            )
            for r in rows
        ]

    @staticmethod
    def _values(user: User) -> dict[str, Any]:
        return {
            "email": user.email,
            "name": user.name,
            "role": str(user.role),
            "password_hash": user.password_hash,
            "locale": user.locale,
            "timezone": user.timezone,
            "created_at": user.created_at,
            "disabled_at": user.disabled_at,
            "last_login_at": user.last_login_at,
        }

    def _grant(self, user: User) -> None:
        assert user.id is not None
        self.s.execute(delete(user_stores).where(user_stores.c.user_id == user.id))
        if user.stores:
            self.s.execute(
                insert(user_stores), [{"user_id": user.id, "store_id": s} for s in user.stores]
            )

    def add(self, user: User) -> User:
        done: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            insert(users).values(**self._values(user))
        )
        assert done.inserted_primary_key is not None
        user.id = int(done.inserted_primary_key[0])
        self._grant(user)
        return user

    def get(self, user_id: int) -> User | None:
        rows = self.s.execute(select(users).where(users.c.id == user_id)).all()
        return self._users(rows)[0] if rows else None

    def by_email(self, email: str) -> User | None:
        rows = self.s.execute(select(users).where(users.c.email == email)).all()
        return self._users(rows)[0] if rows else None

    def list(self) -> Sequence[User]:
        return self._users(self.s.execute(select(users).order_by(users.c.email)).all())

    def update(self, user: User) -> None:
        assert user.id is not None
        self.s.execute(update(users).where(users.c.id == user.id).values(**self._values(user)))
        self._grant(user)

    def add_session(self, session: ConsoleSession) -> None:
        self.s.execute(
            insert(console_sessions).values(
                digest=session.digest,
                user_id=session.user_id,
                csrf=session.csrf,
                created_at=session.created_at,
                last_seen_at=session.last_seen_at,
            )
        )

    def session(self, digest: str) -> ConsoleSession | None:
        row = self.s.execute(
            select(console_sessions).where(console_sessions.c.digest == digest)
        ).first()
        if row is None:
            return None
        return ConsoleSession(
            digest=row.digest,
            user_id=row.user_id,
            csrf=row.csrf,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
        )

    def touch_session(self, digest: str, at: datetime) -> None:
        self.s.execute(
            update(console_sessions)
            .where(console_sessions.c.digest == digest)
            .values(last_seen_at=at)
        )

    def end_session(self, digest: str) -> None:
        self.s.execute(delete(console_sessions).where(console_sessions.c.digest == digest))

    def end_sessions(self, user_id: int) -> int:
        done: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            delete(console_sessions).where(console_sessions.c.user_id == user_id)
        )
        return done.rowcount

    def prune_sessions(self, before: datetime) -> int:
        done: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            delete(console_sessions).where(console_sessions.c.last_seen_at < before)
        )
        return done.rowcount
