"""Who is signed in, what they may do, and the CSRF check (SPEC S11).

A browser signs in with a session cookie (``reclaim_session``: HttpOnly, SameSite=Lax,
Secure when Reclaim is served over https, path ``/console``) holding a random token whose
SHA-256 names the session row. Every state-changing request must echo the session's CSRF
token, as the form field ``csrf`` or htmx's ``X-CSRF-Token`` header (the layout sets it on
``<body hx-headers>``); the sign-in form, which has no session yet, uses a double-submit
cookie instead. A route asks for :data:`Reader`, :data:`Worker` or :data:`Admin`; a store it
names must be one the user sees, or it answers 404 as if there were none.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from reclaim.bootstrap import Runtime
from reclaim.domain.audit import Actor
from reclaim.domain.stores import Store
from reclaim.domain.users import ConsoleSession, User
from reclaim.errors import AuthError, Forbidden, NotFound
from reclaim.services.stores import list_stores
from reclaim.services.users import current_user, only_role

SESSION_COOKIE = "reclaim_session"
LOGIN_COOKIE = "reclaim_login"  # the sign-in form's double-submit CSRF token
LOCALE_COOKIE = "reclaim_locale"  # the sign-in page's language, before anyone is known
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SignInFirst(AuthError):
    """No valid session: pages redirect to the sign-in form, htmx requests get HX-Redirect."""


class BadCsrf(Forbidden):
    """A state-changing request without its session's CSRF token."""


@dataclass(frozen=True, slots=True)
class Who:
    """The signed-in user, their session, and the stores they may see (admins: all)."""

    user: User
    session: ConsoleSession
    stores: tuple[Store, ...]
    token: str

    @property
    def store_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.stores)

    def store(self, store_id: str | None) -> Store:
        """The store ``store_id`` if this user sees it; NotFound (404) otherwise, the same
        answer as for a store that does not exist."""
        for s in self.stores:
            if s.id == store_id:
                return s
        raise NotFound("no such store")

    def sees(self, store_id: str | None) -> bool:
        return store_id is not None and store_id in self.store_ids

    def actor(self, rt: Runtime) -> Actor:
        return Actor(self.user.actor, rt.clock())

    def may(self, verb: str) -> bool:
        return self.user.may(verb)


def rt_of(request: Request) -> Runtime:
    rt: Runtime = request.app.state.rt
    return rt


def https(request: Request) -> bool:
    return request.url.scheme == "https" or rt_of(request).settings.public_url.startswith(
        "https://"
    )


def _who(rt: Runtime, token: str) -> Who:
    now = rt.clock()
    try:
        user, session = current_user(uow=rt.reader(), token=token, now=now, touch=rt.uow())
    except AuthError as exc:
        raise SignInFirst(str(exc)) from None
    everything = list_stores(uow=rt.reader())
    stores = tuple(s for s in everything if user.sees(s.id))
    return Who(user=user, session=session, stores=stores, token=token)


async def signed_in(request: Request) -> Who:
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        raise SignInFirst("sign in first")
    who = await run_in_threadpool(_who, rt_of(request), token)
    if request.method not in SAFE_METHODS:
        await check_csrf(request, who.session.csrf)
    request.state.who = who  # for the error pages
    return who


async def check_csrf(request: Request, expected: str) -> None:
    sent = request.headers.get("x-csrf-token", "")
    if not sent:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get("csrf", "")
            sent = value if isinstance(value, str) else ""
    if not sent or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise BadCsrf("this form has expired or did not come from the console: reload the page")


def _needs(verb: str):  # type: ignore[no-untyped-def]
    async def check(who: Annotated[Who, Depends(signed_in)]) -> Who:
        only_role(who.user, verb)
        return who

    return check


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/console/login?next=" + quote(target, safe="")


# A signed-in user who may read (every role), work cases (operator, admin), or administer.
Reader = Annotated[Who, Depends(_needs("read"))]
Worker = Annotated[Who, Depends(_needs("work"))]
Admin = Annotated[Who, Depends(_needs("admin"))]
