"""The people who use the console (SPEC S11): their role, the stores they may see, and their
signed-in sessions. Pure: hashing passwords and storing sessions are the adapters' work."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from reclaim.errors import InvalidInput


class Role(enum.StrEnum):
    """What a user may do. An admin manages users, keys, stores and settings and sees every
    store; an operator works cases, flows, templates and coupons in their stores; a viewer
    reads their stores and changes nothing."""

    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"


# What each role may do, by the verbs the console's routes ask for.
PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.VIEWER: frozenset({"read"}),
    Role.OPERATOR: frozenset({"read", "work"}),
    Role.ADMIN: frozenset({"read", "work", "admin"}),
}

SESSION_IDLE = timedelta(hours=12)  # a session unused this long ends
SESSION_MAX = timedelta(days=14)  # and none lives longer than this
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 takes any length; a megabyte "password" is a denial of service
LOCALES = ("en", "zh-CN")

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,253}\.[^@\s]{1,63}$")


def normal_email(text: str, *, field: str = "email") -> str:
    """``text`` as a sign-in name: trimmed and lower-cased; InvalidInput when it is no address."""
    value = (text or "").strip().lower()
    if not _EMAIL.match(value):
        raise InvalidInput(f"{field} must be an email address such as ops@example.com", field=field)
    return value


def check_password(password: str, *, field: str = "password") -> None:
    """A password a person chose: at least ten characters, at most 1,024, not all blank."""
    if len(password) < MIN_PASSWORD or not password.strip():
        raise InvalidInput(f"{field} must have at least {MIN_PASSWORD} characters", field=field)
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"{field} must have at most {MAX_PASSWORD} characters", field=field)


def parse_role(text: str, *, field: str = "role") -> Role:
    try:
        return Role(text)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise InvalidInput(f"{field} must be one of {names}", field=field) from None


@dataclass(slots=True)
class User:
    email: str
    role: Role
    password_hash: str
    created_at: datetime
    name: str = ""
    locale: str = "en"
    timezone: str = "UTC"
    disabled_at: datetime | None = None
    last_login_at: datetime | None = None
    # The stores a non-admin may see; an admin sees every store whatever this holds.
    stores: tuple[str, ...] = field(default_factory=tuple)
    id: int | None = None

    def may(self, verb: str) -> bool:
        return self.disabled_at is None and verb in PERMISSIONS[Role(self.role)]

    def sees(self, store_id: str) -> bool:
        return self.disabled_at is None and (
            Role(self.role) is Role.ADMIN or store_id in self.stores
        )

    @property
    def actor(self) -> str:
        """How the audit log names this user's changes."""
        return f"console:{self.email}"


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """A signed-in browser. Only the token's SHA-256 is stored; ``csrf`` is the token every
    form and htmx request must echo."""

    digest: str
    user_id: int
    csrf: str
    created_at: datetime
    last_seen_at: datetime

    def expired(self, now: datetime) -> bool:
        return now - self.last_seen_at > SESSION_IDLE or now - self.created_at > SESSION_MAX
