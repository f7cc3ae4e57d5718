"""My account (SPEC S11), for every user: language and time zone, and a new password (the
current one required; every session of the user ends, so they sign in again)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from reclaim.domain.users import LOCALES
from reclaim.entrypoints.console.auth import SESSION_COOKIE, Reader, Who, rt_of
from reclaim.entrypoints.console.pages.ops_support import DoneQuery, call, flash, words_of
from reclaim.entrypoints.console.pages.ops_support import Form as Values
from reclaim.entrypoints.console.render import page
from reclaim.errors import InvalidInput
from reclaim.services import account as account_service
from reclaim.services import users as user_service

router = APIRouter(include_in_schema=False)
DONE = ("settings.account.done.saved",)


def _page(
    request: Request,
    who: Who,
    *,
    prefs: Values | None = None,
    secret: Values | None = None,
    done: str = "",
    status: int = 200,
) -> Response:
    prefs = prefs or Values(values={"locale": who.user.locale, "timezone": who.user.timezone})
    context = {
        "prefs": prefs,
        "secret": secret or Values(),
        "locales": LOCALES,
        "done": flash(done, DONE),
    }
    return page(
        request, who, "settings/account.html", context, section="settings", status_code=status
    )


@router.get("/console/settings/account")
async def account(request: Request, who: Reader, done: DoneQuery = "") -> Response:
    return _page(request, who, done=done)


@router.post("/console/settings/account")
async def save_account(
    request: Request,
    who: Reader,
    locale: Annotated[str, Form(max_length=16)] = "",
    timezone: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    t = words_of(who)
    prefs = Values(values={"locale": locale, "timezone": timezone.strip()})
    if locale not in LOCALES:
        prefs.fail("locale", t("settings.account.locale.invalid"))
    if prefs.ok:
        rt = rt_of(request)
        try:
            await call(
                user_service.update_user,
                uow=rt.uow(),
                hasher=rt.passwords,
                email=who.user.email,
                now=rt.clock(),
                locale=locale,
                timezone=timezone.strip(),
                actor=who.actor(rt),
            )
        except InvalidInput as exc:
            field = "locale" if exc.field == "locale" else "timezone"
            prefs.fail(field, t(f"settings.account.{field}.invalid"))
        else:
            return RedirectResponse(
                "/console/settings/account?done=settings.account.done.saved", 303
            )
    return _page(request, who, prefs=prefs, status=422)


@router.post("/console/settings/account/password")
async def change_password(
    request: Request,
    who: Reader,
    current: Annotated[str, Form(max_length=1024)] = "",
    password: Annotated[str, Form(max_length=2048)] = "",
    repeat: Annotated[str, Form(max_length=2048)] = "",
) -> Response:
    t = words_of(who)
    secret = Values()  # passwords are never sent back
    if password != repeat:
        secret.fail("repeat", t("settings.account.repeat.invalid"))
    if secret.ok:
        rt = rt_of(request)
        try:
            assert who.user.id is not None
            await call(
                account_service.change_password,
                uow=rt.uow(),
                hasher=rt.passwords,
                user_id=who.user.id,
                current=current,
                new=password,
                now=rt.clock(),
                actor=who.actor(rt),
            )
        except account_service.WrongPassword:
            secret.fail("current", t("settings.account.current.invalid"))
        except InvalidInput:
            secret.fail("password", t("settings.account.password.invalid"))
        else:
            answer = RedirectResponse("/console/login", status_code=303)
            answer.delete_cookie(SESSION_COOKIE, path="/console")
            return answer
    return _page(request, who, secret=secret, status=422)
