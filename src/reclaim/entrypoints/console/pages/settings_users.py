"""The console's users, for admins (SPEC S11): listed with role, stores and last sign-in;
added (email, role, stores, language, time zone, first password) and changed (role, stores,
disabled) through ``services.users``, audited as ``user.add|set`` by ``console:<email>``.
An admin cannot disable or demote themselves here: a console must keep an admin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from reclaim.domain.users import LOCALES, Role, User
from reclaim.entrypoints.console.auth import Admin, Who, rt_of
from reclaim.entrypoints.console.pages.ops_support import DoneQuery, Form, call, flash, words_of
from reclaim.entrypoints.console.render import page
from reclaim.errors import Conflict, InvalidInput
from reclaim.services import users as user_service

router = APIRouter(include_in_schema=False)
DONE = ("settings.users.done.added", "settings.users.done.saved")
USER_ID = Annotated[int, Path(ge=1, le=2**63 - 1)]
ROLES = tuple(r.value for r in Role)
_FIELDS = ("email", "role", "stores", "locale", "timezone", "password", "disabled", "name")


def _raw(form: Mapping[str, Any], stores: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {
        k: str(form.get(k, "")).strip()[:1024] for k in ("email", "role", "locale", "timezone")
    }
    values["name"] = str(form.get("name", ""))[:120]
    values["password"] = str(form.get("password", ""))[:2048]
    values["disabled"] = form.get("disabled", "") == "1"
    values["stores"] = stores
    return values


def _mark(form: Form, exc: InvalidInput, t: Any) -> None:
    field = exc.field if exc.field in _FIELDS else "email"
    form.fail(field, t(f"settings.users.{field}.invalid"))


async def _list_page(
    request: Request, who: Who, form: Form | None = None, *, done: str = "", status: int = 200
) -> Response:
    users = await call(user_service.list_users, uow=rt_of(request).reader())
    form = form or Form(values={"role": "operator", "locale": "en", "timezone": "UTC"})
    context = {
        "users": users,
        "roles": ROLES,
        "locales": LOCALES,
        "form": form,
        "all_stores": who.stores,
        "done": flash(done, DONE),
    }
    return page(
        request, who, "settings/users.html", context, section="settings", status_code=status
    )


@router.get("/console/settings/users")
async def users(request: Request, who: Admin, done: DoneQuery = "") -> Response:
    return await _list_page(request, who, done=done)


def _stores_of(raw: Any, who: Who) -> tuple[list[str], bool]:
    """The stores ticked, and whether they are all stores there are."""
    chosen = [str(s) for s in raw.getlist("stores")][:500]
    return chosen, all(who.sees(s) for s in chosen)


@router.post("/console/settings/users")
async def add_user(request: Request, who: Admin) -> Response:
    raw = await request.form()
    chosen, known = _stores_of(raw, who)
    values = _raw(raw, chosen)
    form = Form(values=values | {"password": ""})  # a password is never sent back
    t = words_of(who)
    if not known:
        form.fail("stores", t("settings.users.stores.invalid"))
    if values["role"] not in ROLES:
        form.fail("role", t("settings.users.role.invalid"))
    if form.ok:
        rt = rt_of(request)
        try:
            await call(
                user_service.add_user,
                uow=rt.uow(),
                hasher=rt.passwords,
                email=values["email"],
                password=values["password"],
                role=values["role"],
                now=rt.clock(),
                stores=chosen,
                name=values["name"],
                locale=values["locale"],
                timezone=values["timezone"],
                actor=who.actor(rt),
            )
        except Conflict:
            form.fail("email", t("settings.users.email.taken"))
        except InvalidInput as exc:
            _mark(form, exc, t)
        else:
            return RedirectResponse("/console/settings/users?done=settings.users.done.added", 303)
    return await _list_page(request, who, form, status=422)


async def _user_page(
    request: Request, who: Who, user: User, form: Form, *, status: int = 200
) -> Response:
    context = {"user": user, "form": form, "roles": ROLES, "all_stores": who.stores}
    return page(request, who, "settings/user.html", context, section="settings", status_code=status)


@router.get("/console/settings/users/{user_id}")
async def user(request: Request, who: Admin, user_id: USER_ID) -> Response:
    found = await call(user_service.get_user, uow=rt_of(request).reader(), user_id=user_id)
    values: dict[str, Any] = {"role": str(found.role), "stores": list(found.stores)}
    values["disabled"] = found.disabled_at is not None
    return await _user_page(request, who, found, Form(values=values))


@router.post("/console/settings/users/{user_id}")
async def save_user(request: Request, who: Admin, user_id: USER_ID) -> Response:
    rt = rt_of(request)
    found = await call(user_service.get_user, uow=rt.reader(), user_id=user_id)
    raw = await request.form()
    chosen, known = _stores_of(raw, who)
    values = _raw(raw, chosen)
    form = Form(values=values)
    t = words_of(who)
    if not known:
        form.fail("stores", t("settings.users.stores.invalid"))
    if values["role"] not in ROLES:
        form.fail("role", t("settings.users.role.invalid"))
    if found.id == who.user.id and values["role"] != "admin":
        form.fail("role", t("settings.users.role.self"))
    if found.id == who.user.id and values["disabled"]:
        form.fail("disabled", t("settings.users.disabled.self"))
    if form.ok:
        try:
            await call(
                user_service.update_user,
                uow=rt.uow(),
                hasher=rt.passwords,
                email=found.email,
                now=rt.clock(),
                role=values["role"],
                stores=chosen,
                disabled=values["disabled"],
                actor=who.actor(rt),
            )
        except InvalidInput as exc:
            _mark(form, exc, t)
        else:
            return RedirectResponse("/console/settings/users?done=settings.users.done.saved", 303)
    return await _user_page(request, who, found, form, status=422)
