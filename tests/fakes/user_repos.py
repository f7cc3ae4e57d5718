"""The fake repository of the console's users and sessions, with the SQL one's semantics:
e-mail addresses unique, users listed by address, a user's store grants sorted."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from fakes.base import Repo
from fakes.state import UniqueViolation, clone_row
from reclaim.domain.users import ConsoleSession, User


class FakeUsers(Repo):
    def _stored(self, user: User) -> User:
        return dataclasses.replace(user, stores=tuple(sorted(set(user.stores))))

    def add(self, user: User) -> User:
        if any(u.email == user.email for u in self.t.users.values()):
            raise UniqueViolation(f"users.email {user.email}")
        user.id = self._next_id("users")
        self.t.users[user.id] = self._stored(user)
        user.stores = self.t.users[user.id].stores
        return user

    def get(self, user_id: int) -> User | None:
        found = self.t.users.get(user_id)
        return clone_row(found) if found is not None else None

    def by_email(self, email: str) -> User | None:
        found = next((u for u in self.t.users.values() if u.email == email), None)
        return clone_row(found) if found is not None else None

    def list(self) -> Sequence[User]:
        return [clone_row(u) for u in sorted(self.t.users.values(), key=lambda u: u.email)]

    def update(self, user: User) -> None:
        assert user.id is not None
        self.t.users[user.id] = self._stored(user)

    def add_session(self, session: ConsoleSession) -> None:
        self.t.console_sessions[session.digest] = session

    def session(self, digest: str) -> ConsoleSession | None:
        return self.t.console_sessions.get(digest)

    def touch_session(self, digest: str, at: datetime) -> None:
        found = self.t.console_sessions.get(digest)
        if found is not None:
            self.t.console_sessions[digest] = dataclasses.replace(found, last_seen_at=at)

    def end_session(self, digest: str) -> None:
        self.t.console_sessions.pop(digest, None)

    def end_sessions(self, user_id: int) -> int:
        mine = [d for d, s in self.t.console_sessions.items() if s.user_id == user_id]
        for d in mine:
            del self.t.console_sessions[d]
        return len(mine)

    def prune_sessions(self, before: datetime) -> int:
        old = [d for d, s in self.t.console_sessions.items() if s.last_seen_at < before]
        for d in old:
            del self.t.console_sessions[d]
        return len(old)
