"""Settings (SPEC S11): the stores the user sees (admins change a store's settings here, as
``reclaim store set`` does), the channels Reclaim is configured with (never their secrets),
and links to API keys and users (admins) and to the user's own account."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from reclaim.config import Settings
from reclaim.domain.stores import REPORT_LOCALES, Store
from reclaim.entrypoints.console.auth import Admin, Reader, Who, rt_of
from reclaim.entrypoints.console.pages import settings_store as fields
from reclaim.entrypoints.console.pages.ops_support import DoneQuery, Form, call, flash, words_of
from reclaim.entrypoints.console.render import page
from reclaim.errors import InvalidInput
from reclaim.services import stores as store_service

router = APIRouter(include_in_schema=False)
DONE = ("settings.done.store",)
STORE_ID = Annotated[str, Path(max_length=64)]


def _smtp_where(scheme: str, host: str | None, port: int | None) -> str:
    return f"{scheme}://{host}:{port or (465 if scheme == 'smtps' else 25)}"


def channels(settings: Settings) -> list[dict[str, object]]:
    """Which channels are configured, with what may be shown of them: hosts, ports, the
    DKIM domain and selector, the SMS sender; never a password, token or key."""
    smtp = urlsplit(settings.smtp_url) if settings.smtp_url else None
    sms = urlsplit(settings.sms_url) if settings.sms_url else None
    return [
        {
            "key": "smtp",
            "on": smtp is not None,
            "detail": _smtp_where(smtp.scheme, smtp.hostname, smtp.port) if smtp else "",
            "auth": bool(smtp is not None and smtp.username),
        },
        {
            "key": "dkim",
            "on": bool(settings.dkim_domain and settings.dkim_selector and settings.dkim_key_file),
            "detail": (
                f"{settings.dkim_selector}._domainkey.{settings.dkim_domain}"
                if settings.dkim_domain and settings.dkim_selector
                else ""
            ),
            "auth": bool(settings.dkim_key_file),
        },
        {
            "key": "sms",
            "on": sms is not None and bool(settings.sms_account and settings.sms_token),
            "detail": (
                f"{settings.sms_provider} · {sms.hostname}"
                + (f" · {settings.sms_from}" if settings.sms_from else "")
                if sms is not None
                else ""
            ),
            "auth": bool(settings.sms_account and settings.sms_token),
        },
    ]


@router.get("/console/settings")
async def settings(request: Request, who: Reader, done: DoneQuery = "") -> Response:
    rt = rt_of(request)
    context = {
        "stores": who.stores,
        "channels": channels(rt.settings),
        "done": flash(done, DONE),
    }
    return page(request, who, "settings/index.html", context, section="settings")


def _store_page(
    request: Request, who: Who, store: Store, form: Form, *, status_code: int = 200, top: str = ""
) -> Response:
    context = {
        "store": store,
        "form": form,
        "secrets": fields.secrets_set(store),
        "windows": fields.WINDOWS,
        "locales": REPORT_LOCALES,
        "top": top,
    }
    return page(
        request, who, "settings/store.html", context, section="settings", status_code=status_code
    )


@router.get("/console/settings/stores/{store_id}")
async def store_form(request: Request, who: Admin, store_id: STORE_ID) -> Response:
    store = who.store(store_id)
    return _store_page(request, who, store, Form(values=fields.shown(store)))


@router.post("/console/settings/stores/{store_id}")
async def store_save(request: Request, who: Admin, store_id: STORE_ID) -> Response:
    store = who.store(store_id)
    raw = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    t = words_of(who)
    form, changes, paused = fields.read({k: v[:5000] for k, v in raw.items()}, t)
    if form.ok:
        rt = rt_of(request)
        try:
            await call(
                store_service.update_settings,
                uow=rt.uow(),
                store_id=store.id,
                changes=changes,
                paused=paused,
                actor=who.actor(rt),
            )
        except InvalidInput as exc:
            if exc.field in fields.FIELDS:
                form.fail(exc.field, t(f"settings.store.{exc.field}.invalid"))
            else:
                form.fail("_", str(exc))
        else:
            target = "/console/settings?" + urlencode({"done": DONE[0]})
            return RedirectResponse(target, status_code=303)
    top = form.errors.get("_", "")
    return _store_page(request, who, store, form, status_code=422, top=top)
