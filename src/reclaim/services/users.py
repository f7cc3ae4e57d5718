"""The console's users (SPEC S11): adding and changing them, signing in and out, and the
session a browser's cookie names. Passwords go through the ``PasswordHasher`` port (argon2id);
a session's token is handed to the browser once and stored only as its SHA-256."""

from __future__ import annotations

import hashlib
import secrets
import weakref
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reclaim.domain.audit import Actor, changes
from reclaim.domain.users import (
    LOCALES,
    SESSION_MAX,
    ConsoleSession,
    Role,
    User,
    check_password,
    normal_email,
    parse_role,
)
from reclaim.errors import AuthError, Conflict, Forbidden, InvalidInput, NotFound
from reclaim.services.audit import record
from reclaim.services.ports import PasswordHasher, UnitOfWork

WRONG = "wrong email or password"
TOUCH_EVERY = timedelta(minutes=1)  # a session's last use is written at most this often
# Verified against when no such user exists, so that an unknown address costs the same time
# as a wrong password and the answer's delay does not tell which addresses have accounts.
_DUMMY: weakref.WeakKeyDictionary[PasswordHasher, str] = weakref.WeakKeyDictionary()


def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash of a random password, made once per hasher (its own cost, so the wait matches)."""
    found = _DUMMY.get(hasher)
    if found is None:
        found = _DUMMY[hasher] = hasher.hash(secrets.token_urlsafe(16))
    return found


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_locale(locale: str, *, field: str = "locale") -> str:
    if locale not in LOCALES:
        raise InvalidInput(f"{field} must be one of {', '.join(LOCALES)}", field=field)
    return locale


def check_timezone(name: str, *, field: str = "timezone") -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"{field} must be an IANA time zone such as Europe/Berlin or Asia/Shanghai",
            field=field,
        ) from None
    return name


def _check_stores(uow: UnitOfWork, stores: Collection[str]) -> tuple[str, ...]:
    known = {s.id for s in uow.stores.list()}
    for s in stores:
        if s not in known:
            raise NotFound(f"no store {s[:40]!r}")
    return tuple(sorted(set(stores)))


def _view(user: User) -> dict[str, object]:
    """What the audit log keeps of a user: never the hash."""
    return {
        "role": str(user.role),
        "stores": list(user.stores),
        "name": user.name,
        "locale": user.locale,
        "timezone": user.timezone,
        "disabled": user.disabled_at is not None,
    }


def add_user(
    *,
    uow: UnitOfWork,
    hasher: PasswordHasher,
    email: str,
    password: str,
    role: str,
    now: datetime,
    stores: Collection[str] = (),
    name: str = "",
    locale: str = "en",
    timezone: str = "UTC",
    actor: Actor | None = None,
) -> User:
    address = normal_email(email)
    check_password(password)
    user = User(
        email=address,
        role=parse_role(role),
        password_hash="",
        created_at=now,
        name=name.strip()[:120],
        locale=check_locale(locale),
        timezone=check_timezone(timezone),
    )
    with uow:
        if uow.users.by_email(address) is not None:
            raise Conflict(f"a user with the email {address} exists already")
        user.stores = _check_stores(uow, stores)
        user.password_hash = hasher.hash(password)
        uow.users.add(user)
        record(uow, actor, "user.add", f"user:{user.id}", after=_view(user))
        uow.commit()
    return user


def list_users(*, uow: UnitOfWork) -> list[User]:
    with uow:
        return list(uow.users.list())


def get_user(*, uow: UnitOfWork, user_id: int) -> User:
    with uow:
        user = uow.users.get(user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def update_user(
    *,
    uow: UnitOfWork,
    hasher: PasswordHasher,
    email: str,
    now: datetime,
    role: str | None = None,
    stores: Collection[str] | None = None,
    name: str | None = None,
    locale: str | None = None,
    timezone: str | None = None,
    password: str | None = None,
    disabled: bool | None = None,
    actor: Actor | None = None,
) -> User:
    """Change what is given; a new password or disabling ends the user's sessions."""
    address = normal_email(email)
    if password is not None:
        check_password(password)
    with uow:
        user = uow.users.by_email(address)
        if user is None:
            raise NotFound(f"no user {address}")
        was = _view(user)
        changed = replace(
            user,
            role=parse_role(role) if role is not None else user.role,
            stores=_check_stores(uow, stores) if stores is not None else user.stores,
            name=name.strip()[:120] if name is not None else user.name,
            locale=check_locale(locale) if locale is not None else user.locale,
            timezone=check_timezone(timezone) if timezone is not None else user.timezone,
        )
        if disabled is not None:
            changed.disabled_at = (user.disabled_at or now) if disabled else None
        if password is not None:
            changed.password_hash = hasher.hash(password)
        uow.users.update(changed)
        if password is not None or changed.disabled_at is not None:
            assert changed.id is not None
            uow.users.end_sessions(changed.id)
        after = _view(changed)
        if password is not None:
            after["password_changed"] = True
        before, after = changes(was, after)
        record(uow, actor, "user.set", f"user:{changed.id}", before=before, after=after)
        uow.commit()
    return changed


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str  # the cookie's value: handed out once, never stored
    session: ConsoleSession
    user: User


def sign_in(
    *, uow: UnitOfWork, hasher: PasswordHasher, email: str, password: str, now: datetime
) -> SignedIn:
    """A new session for the user whose address and password these are; ``AuthError`` with
    the same words whatever was wrong (no such user, a wrong password, a disabled user)."""
    try:
        address = normal_email(email)
    except InvalidInput:
        raise AuthError(WRONG) from None
    with uow:
        user = uow.users.by_email(address)
        if user is None or user.disabled_at is not None:
            hasher.verify(_dummy_hash(hasher), password[:1024])
            raise AuthError(WRONG)
        if len(password) > 1024 or not hasher.verify(user.password_hash, password):
            raise AuthError(WRONG)
        assert user.id is not None
        if hasher.needs_rehash(user.password_hash):
            user.password_hash = hasher.hash(password)
        user.last_login_at = now
        uow.users.update(user)
        token = secrets.token_urlsafe(32)
        session = ConsoleSession(
            digest=token_digest(token),
            user_id=user.id,
            csrf=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
        )
        uow.users.add_session(session)
        uow.users.prune_sessions(now - SESSION_MAX)
        record(uow, Actor(user.actor, now), "user.sign_in", f"user:{user.id}")
        uow.commit()
    return SignedIn(token=token, session=session, user=user)


def current_user(
    *, uow: UnitOfWork, token: str, now: datetime, touch: UnitOfWork | None = None
) -> tuple[User, ConsoleSession]:
    """The user and session a cookie's token names; ``AuthError`` when there is none, it has
    expired or its user is disabled. ``touch`` (a writing unit of work) records the use, at
    most once a minute."""
    if not token or len(token) > 128:
        raise AuthError("sign in first")
    digest = token_digest(token)
    with uow:
        session = uow.users.session(digest)
        user = uow.users.get(session.user_id) if session is not None else None
    if session is None or user is None or user.disabled_at is not None:
        raise AuthError("sign in first")
    if session.expired(now):
        if touch is not None:
            with touch:
                touch.users.end_session(digest)
                touch.commit()
        raise AuthError("your session has ended: sign in again")
    if touch is not None and now - session.last_seen_at >= TOUCH_EVERY:
        with touch:
            touch.users.touch_session(digest, now)
            touch.commit()
    return user, session


def sign_out(*, uow: UnitOfWork, token: str, now: datetime) -> None:
    digest = token_digest(token)
    with uow:
        session = uow.users.session(digest)
        if session is None:
            return
        uow.users.end_session(digest)
        user = uow.users.get(session.user_id)
        if user is not None:
            record(uow, Actor(user.actor, now), "user.sign_out", f"user:{user.id}")
        uow.commit()


def visible_stores(user: User, store_ids: Collection[str]) -> list[str]:
    """Of ``store_ids``, those ``user`` may see, in the order given."""
    return [s for s in store_ids if user.sees(s)]


def only_role(user: User, verb: str) -> None:
    """``Forbidden`` unless ``user``'s role allows ``verb`` (read, work, admin)."""
    if not user.may(verb):
        raise Forbidden(f"a {Role(user.role).value} may not do this")
