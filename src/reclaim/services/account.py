"""A console user's own account (SPEC S11): changing one's password needs the current one,
so that a browser left signed in cannot be used to take the account over."""

from __future__ import annotations

from datetime import datetime

from reclaim.domain.audit import Actor
from reclaim.domain.users import User
from reclaim.errors import InvalidInput, NotFound
from reclaim.services.ports import PasswordHasher, UnitOfWork
from reclaim.services.users import update_user


class WrongPassword(InvalidInput):
    """The current password given is not the user's."""


def change_password(
    *,
    uow: UnitOfWork,
    hasher: PasswordHasher,
    user_id: int,
    current: str,
    new: str,
    now: datetime,
    actor: Actor | None = None,
) -> User:
    """The user's new password, once ``current`` is verified; their sessions end (this one
    too: they sign in again with the new password). ``WrongPassword`` (field ``current``)
    or ``InvalidInput`` (field ``password``) and nothing changed otherwise."""
    with uow:
        user = uow.users.get(user_id)
    if user is None or user.disabled_at is not None:
        raise NotFound("no such user")
    if len(current) > 1024 or not hasher.verify(user.password_hash, current):
        raise WrongPassword("the current password is wrong", field="current")
    return update_user(uow=uow, hasher=hasher, email=user.email, password=new, now=now, actor=actor)
