"""The console's users through the fakes (SPEC S11): adding one checks every field and keeps
no password; signing in gives a session whose token is stored only as a hash; a wrong
password, an unknown address and a disabled user get the same answer; sessions end after
their idle time, at sign-out, and when the password changes; every change is audited
without the hash."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher

from fakes import FakeUnitOfWork
from reclaim.adapters.passwords import Argon2Passwords
from reclaim.domain.audit import Actor
from reclaim.domain.users import SESSION_IDLE, Role
from reclaim.errors import AuthError, Conflict, Forbidden, InvalidInput, NotFound
from reclaim.services import users
from service_builders import T0, open_store

HASHER = Argon2Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
PW = "correct horse battery"
ME = Actor("cli:tester", T0)


def _add(uow: FakeUnitOfWork, email: str = "Ops@Example.com", **kw: object) -> users.User:
    args: dict[str, object] = {"role": "operator", "password": PW, "now": T0, "actor": ME}
    args.update(kw)
    return users.add_user(uow=uow, hasher=HASHER, email=email, **args)  # type: ignore[arg-type]


def test_a_user_is_added_with_a_hash_and_the_change_audited_without_it() -> None:
    uow = FakeUnitOfWork()
    store = open_store(uow)
    made = _add(uow, stores=[store], timezone="Asia/Shanghai", locale="zh-CN")
    assert made.email == "ops@example.com"  # trimmed and lower-cased
    assert made.stores == (store,) and made.role is Role.OPERATOR
    assert made.password_hash.startswith("$argon2id$") and PW not in made.password_hash
    with uow:
        (entry,) = uow.audit.list(store_id=None, limit=5)
    assert entry.action == "user.add" and entry.actor == "cli:tester"
    assert entry.after is not None and "password_hash" not in entry.after
    assert PW not in str(entry.after) and made.password_hash not in str(entry.after)


@pytest.mark.parametrize(
    ("field", "kw"),
    [
        ("email", {"email": "not an address"}),
        ("password", {"password": "short"}),
        ("password", {"password": " " * 12}),
        ("role", {"role": "owner"}),
        ("locale", {"locale": "fr"}),
        ("timezone", {"timezone": "Mars/Olympus"}),
    ],
)
def test_bad_input_names_its_field_and_adds_no_one(field: str, kw: dict[str, object]) -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(InvalidInput) as err:
        _add(uow, **kw)
    assert err.value.field == field
    assert users.list_users(uow=uow) == []


def test_an_unknown_store_or_a_taken_address_adds_no_one() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(NotFound):
        _add(uow, stores=["st_nope"])
    _add(uow)
    with pytest.raises(Conflict):
        _add(uow, email="OPS@example.com")
    assert [u.email for u in users.list_users(uow=uow)] == ["ops@example.com"]


def test_sign_in_stores_only_the_tokens_hash() -> None:
    uow = FakeUnitOfWork()
    _add(uow)
    done = users.sign_in(uow=uow, hasher=HASHER, email="ops@example.com", password=PW, now=T0)
    assert len(done.token) >= 40
    with uow:
        assert uow.users.session(done.token) is None
        kept = uow.users.session(users.token_digest(done.token))
        user = uow.users.by_email("ops@example.com")
    assert kept is not None and kept.csrf == done.session.csrf and kept.csrf != done.token
    assert user is not None and user.last_login_at == T0
    who, _ = users.current_user(uow=uow, token=done.token, now=T0 + timedelta(minutes=5))
    assert who.email == "ops@example.com"


def test_wrong_password_unknown_user_and_disabled_user_get_the_same_answer() -> None:
    uow = FakeUnitOfWork()
    _add(uow)
    _add(uow, email="gone@example.com")
    users.update_user(uow=uow, hasher=HASHER, email="gone@example.com", disabled=True, now=T0)
    answers = []
    for email, password in [
        ("ops@example.com", "wrong password!!"),
        ("nobody@example.com", PW),
        ("gone@example.com", PW),
        ("not an address", PW),
    ]:
        with pytest.raises(AuthError) as err:
            users.sign_in(uow=uow, hasher=HASHER, email=email, password=password, now=T0)
        answers.append(str(err.value))
    assert answers == [users.WRONG] * 4
    with uow:
        assert not uow.tables.console_sessions


def test_sessions_end_when_idle_at_sign_out_and_on_a_new_password() -> None:
    uow = FakeUnitOfWork()
    _add(uow)

    def new() -> str:
        return users.sign_in(
            uow=uow, hasher=HASHER, email="ops@example.com", password=PW, now=T0
        ).token

    idle = new()
    with pytest.raises(AuthError, match="ended"):
        users.current_user(uow=uow, token=idle, now=T0 + SESSION_IDLE + timedelta(seconds=1), touch=uow)
    with pytest.raises(AuthError):  # and it is gone, not merely refused
        users.current_user(uow=uow, token=idle, now=T0)

    out = new()
    users.sign_out(uow=uow, token=out, now=T0)
    with pytest.raises(AuthError):
        users.current_user(uow=uow, token=out, now=T0)

    kept = new()
    users.update_user(
        uow=uow, hasher=HASHER, email="ops@example.com", password="another good password", now=T0
    )
    with pytest.raises(AuthError):
        users.current_user(uow=uow, token=kept, now=T0)
    assert users.sign_in(
        uow=uow, hasher=HASHER, email="ops@example.com", password="another good password", now=T0
    ).token


def test_use_is_recorded_at_most_once_a_minute() -> None:
    uow = FakeUnitOfWork()
    _add(uow)
    token = users.sign_in(uow=uow, hasher=HASHER, email="ops@example.com", password=PW, now=T0).token
    digest = users.token_digest(token)
    users.current_user(uow=uow, token=token, now=T0 + timedelta(seconds=30), touch=uow)
    with uow:
        assert uow.users.session(digest).last_seen_at == T0  # type: ignore[union-attr]
    users.current_user(uow=uow, token=token, now=T0 + timedelta(minutes=2), touch=uow)
    with uow:
        assert uow.users.session(digest).last_seen_at == T0 + timedelta(minutes=2)  # type: ignore[union-attr]


def test_roles_allow_their_verbs_and_stores_limit_what_is_seen() -> None:
    uow = FakeUnitOfWork()
    a = open_store(uow, store_id="st_aaaaaa")
    b = open_store(uow, "Other", store_id="st_bbbbbb")
    viewer = _add(uow, email="v@example.com", role="viewer", stores=[a])
    admin = _add(uow, email="a@example.com", role="admin")
    users.only_role(viewer, "read")
    with pytest.raises(Forbidden):
        users.only_role(viewer, "work")
    assert users.visible_stores(viewer, [a, b]) == [a]
    assert users.visible_stores(admin, [a, b]) == [a, b]
    changed = users.update_user(uow=uow, hasher=HASHER, email="v@example.com", stores=[b], now=T0, actor=ME)
    assert users.visible_stores(changed, [a, b]) == [b]
    with uow:
        entry = uow.audit.list(store_id=None, limit=1)[0]
    assert entry.action == "user.set"
    assert entry.before == {"stores": [a]} and entry.after == {"stores": [b]}


class _Counting(Argon2Passwords):
    def __init__(self) -> None:
        super().__init__(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        self.hashed = 0
        self.verified = 0

    def hash(self, password: str) -> str:
        self.hashed += 1
        return super().hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified += 1
        return super().verify(password_hash, password)


def test_an_unknown_address_costs_one_verification_like_a_wrong_password() -> None:
    uow = FakeUnitOfWork()
    counting = _Counting()
    for _ in range(3):
        with pytest.raises(AuthError):
            users.sign_in(uow=uow, hasher=counting, email="nobody@example.com", password=PW, now=T0)
    # the dummy hash is made once, then each refusal does the one verification a wrong
    # password does (no extra hashing to tell the two apart by time)
    assert (counting.hashed, counting.verified) == (1, 3)
