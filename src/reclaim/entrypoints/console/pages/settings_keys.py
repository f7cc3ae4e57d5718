"""A store's API keys in the console (admins): listed with their scopes, expiry and last use;
added, revoked and rotated through ``services.stores`` (audited as ``key.add|revoke|rotate``).
A new key's secret is on the answer page once, never stored and never shown again (the page
is not cached)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from reclaim.domain.stores import DEFAULT_SCOPES, SCOPES, Store
from reclaim.entrypoints.console.auth import Admin, Who, rt_of
from reclaim.entrypoints.console.pages.ops_support import DoneQuery, Form, call, flash, words_of
from reclaim.entrypoints.console.render import page
from reclaim.errors import InvalidInput, NotFound
from reclaim.services import stores as store_service

router = APIRouter(include_in_schema=False)
DONE = ("settings.keys.done.revoked",)
STORE_ID = Annotated[str, Path(max_length=64)]
PREFIX = Annotated[str, Path(max_length=16, pattern=r"^[0-9a-f]{1,16}$")]
NO_STORE = {"Cache-Control": "no-store"}


async def _keys_page(
    request: Request,
    who: Who,
    store: Store,
    form: Form | None = None,
    *,
    done: str = "",
    status_code: int = 200,
) -> Response:
    rt = rt_of(request)
    keys = await call(store_service.list_keys, uow=rt.reader(), store_id=store.id)
    form = form or Form(values={f"scope-{s}": s in DEFAULT_SCOPES for s in SCOPES})
    context = {
        "store": store,
        "keys": sorted(keys, key=lambda k: (k.revoked_at is not None, k.created_at)),
        "scopes": SCOPES,
        "form": form,
        "done": flash(done, DONE),
        "now": rt.clock(),
    }
    return page(
        request, who, "settings/keys.html", context, section="settings", status_code=status_code
    )


@router.get("/console/settings/stores/{store_id}/keys")
async def keys(
    request: Request,
    who: Admin,
    store_id: STORE_ID,
    done: DoneQuery = "",
) -> Response:
    return await _keys_page(request, who, who.store(store_id), done=done)


def _new_key_page(request: Request, who: Who, store: Store, made: store_service.NewKey) -> Response:
    context = {"store": store, "made": made}
    return page(
        request, who, "settings/key_made.html", context, section="settings", headers=NO_STORE
    )


@router.post("/console/settings/stores/{store_id}/keys")
async def add_key(request: Request, who: Admin, store_id: STORE_ID) -> Response:
    store = who.store(store_id)
    raw = await request.form()
    t = words_of(who)
    chosen = [s for s in SCOPES if raw.get(f"scope-{s}") == "1"]
    days_text = str(raw.get("expires-in", "")).strip()[:10]
    form = Form(values={f"scope-{s}": s in chosen for s in SCOPES} | {"expires-in": days_text})
    if not chosen:
        form.fail("scopes", t("settings.keys.scopes.missing"))
    days: int | None = None
    if days_text:
        days = int(days_text) if days_text.isdigit() else 0
        if not 1 <= days <= 3650:
            form.fail("expires-in", t("settings.keys.expires-in.invalid"))
    if form.ok:
        rt = rt_of(request)
        try:
            made = await call(
                store_service.add_key,
                uow=rt.uow(),
                store_id=store.id,
                scopes=chosen,
                now=rt.clock(),
                expires_in=None if days is None else timedelta(days=days),
                actor=who.actor(rt),
            )
        except InvalidInput:
            form.fail("scopes", t("settings.keys.scopes.missing"))
        else:
            return _new_key_page(request, who, store, made)
    return await _keys_page(request, who, store, form, status_code=422)


async def _own_key(request: Request, store: Store, prefix: str) -> None:
    """NotFound unless ``prefix`` names a key of ``store`` (never another store's)."""
    keys = await call(store_service.list_keys, uow=rt_of(request).reader(), store_id=store.id)
    if not any(k.prefix == prefix for k in keys):
        raise NotFound("no such key")


@router.post("/console/settings/stores/{store_id}/keys/{prefix}/revoke")
async def revoke_key(request: Request, who: Admin, store_id: STORE_ID, prefix: PREFIX) -> Response:
    store = who.store(store_id)
    await _own_key(request, store, prefix)
    rt = rt_of(request)
    await call(
        store_service.revoke_key, uow=rt.uow(), key=prefix, now=rt.clock(), actor=who.actor(rt)
    )
    query = urlencode({"done": DONE[0]})
    return RedirectResponse(f"/console/settings/stores/{store.id}/keys?{query}", status_code=303)


@router.post("/console/settings/stores/{store_id}/keys/{prefix}/rotate")
async def rotate_key(request: Request, who: Admin, store_id: STORE_ID, prefix: PREFIX) -> Response:
    store = who.store(store_id)
    await _own_key(request, store, prefix)
    rt = rt_of(request)
    made = await call(
        store_service.rotate_key, uow=rt.uow(), key=prefix, now=rt.clock(), actor=who.actor(rt)
    )
    return _new_key_page(request, who, store, made)
