"""Signing in and out, the language switch, and ``/console`` itself (the dashboard).

Sign-in is throttled per account as well as per client address (the edge's ``login`` rate):
after five failures in fifteen minutes an account's form answers "too many attempts" until
the window has passed, whatever password is sent, so a guesser spread over many addresses
gets five tries a quarter hour."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from reclaim.domain.users import LOCALES
from reclaim.entrypoints.console.auth import (
    LOCALE_COOKIE,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Reader,
    https,
    rt_of,
)
from reclaim.entrypoints.console.render import page
from reclaim.errors import AuthError
from reclaim.services import users as service

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

FAILURES = parse("5/15 minutes")


def _limiter(request: Request) -> MovingWindowRateLimiter:
    """The failed sign-ins' counter of this application (in the edge's rate-limit storage:
    memory, or Redis shared by several server processes)."""
    state = request.app.state
    if getattr(state, "login_failures", None) is None:
        where = rt_of(request).settings.rate_limit_storage
        state.login_failures = MovingWindowRateLimiter(storage_from_string(where))
    limiter: MovingWindowRateLimiter = state.login_failures
    return limiter


def _account(email: str) -> str:
    # The limiter's key: a hash, so the counts' store (Redis, say) holds no addresses.
    return "login:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def _next(target: str | None) -> str:
    """Where to go after signing in: a console path only (never another site)."""
    if not target:
        return "/console"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/console"):
        return "/console"
    return target


def _login_page(
    request: Request, *, error: str = "", email: str = "", target: str = "", status: int = 200
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    answer = page(
        request,
        None,
        "login.html",
        {"error": error, "email": email, "next": target, "login_csrf": token},
        status_code=status,
    )
    answer.set_cookie(
        LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=https(request),
        path="/console/login",
        max_age=3600,
    )
    return answer


@router.get("/console/login")
async def login_form(request: Request, next: str = "", lang: str = "") -> HTMLResponse:
    """The sign-in form; ``?lang=zh-CN`` switches its language (kept in a cookie until the
    user's own setting takes over)."""
    if lang in LOCALES:
        request.state.locale = lang
        answer = _login_page(request, target=_next(next))
        answer.set_cookie(
            LOCALE_COOKIE, lang, samesite="lax", secure=https(request), path="/console"
        )
        return answer
    return _login_page(request, target=_next(next))


@router.post("/console/login")
async def login(
    request: Request,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    target = _next(next)
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not cookie or not csrf or not hmac.compare_digest(cookie.encode(), csrf.encode()):
        return _login_page(request, error="login.expired", email=email, target=target, status=403)
    limiter, key = _limiter(request), _account(email)
    if not limiter.test(FAILURES, key):
        return _login_page(request, error="login.throttled", email=email, target=target, status=429)
    rt = rt_of(request)
    try:
        done = await run_in_threadpool(
            service.sign_in,
            uow=rt.uow(),
            hasher=rt.passwords,
            email=email,
            password=password,
            now=rt.clock(),
        )
    except AuthError:
        limiter.hit(FAILURES, key)
        log.info("console sign-in refused")
        return _login_page(request, error="login.wrong", email=email, target=target, status=401)
    answer = RedirectResponse(target, status_code=303)
    answer.set_cookie(
        SESSION_COOKIE,
        done.token,
        httponly=True,
        samesite="lax",
        secure=https(request),
        path="/console",
    )
    answer.delete_cookie(LOGIN_COOKIE, path="/console/login")
    return answer


@router.post("/console/logout")
async def logout(request: Request, who: Reader) -> Response:
    rt = rt_of(request)
    await run_in_threadpool(service.sign_out, uow=rt.uow(), token=who.token, now=rt.clock())
    answer = RedirectResponse("/console/login", status_code=303)
    answer.delete_cookie(SESSION_COOKIE, path="/console")
    return answer


@router.post("/console/locale")
async def switch_locale(
    request: Request,
    who: Reader,
    locale: Annotated[str, Form(max_length=16)] = "en",
    back: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The signed-in user's language, kept with their account."""
    rt = rt_of(request)
    await run_in_threadpool(
        service.update_user,
        uow=rt.uow(),
        hasher=rt.passwords,
        email=who.user.email,
        locale=locale if locale in LOCALES else "en",
        now=rt.clock(),
        actor=who.actor(rt),
    )
    return RedirectResponse(_next(back), status_code=303)


@router.get("/console")
async def home(who: Reader) -> Response:
    return RedirectResponse("/console/dashboard" if who.stores else "/console/settings", 303)
