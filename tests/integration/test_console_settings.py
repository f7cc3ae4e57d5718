"""Settings in the console (SPEC S11), on SQLite and PostgreSQL: stores and their settings
(the checks of ``reclaim store set``, errors next to fields, nothing half-saved), API keys
(the secret shown once), channels without secrets, users, and the user's own account. Every
change is in the audit log as ``console:<email>``; operators and viewers are refused (403)."""

from __future__ import annotations

import re
from datetime import timedelta

from console_support import PASSWORD, console_as, sign_in
from helpers import make_store
from reclaim.bootstrap import Runtime
from reclaim.services import stores as store_service
from reclaim.services import users as user_service
from reclaim.services.audit import list_entries

KEY = re.compile(r"rk_[0-9a-f]{8}_[A-Za-z0-9_-]{20,}")


def _actions(rt: Runtime, store_id: str | None = None) -> list[tuple[str, str]]:
    return [(e.actor, e.action) for e in list_entries(uow=rt.reader(), store_id=store_id)]


def _store_form(c, store_id: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The store form's fields as the page fills them in (text inputs, selects, textareas,
    ticked boxes)."""
    html = c.get(f"/console/settings/stores/{store_id}").text
    data: dict[str, str] = {}
    for name, value in re.findall(
        r'<input id="f-[^"]+" name="([^"]+)" type="(?:text|email|url|number)" value="([^"]*)"', html
    ):
        data[name] = value
    for name, body in re.findall(
        r'<textarea id="f-[^"]+" name="([^"]+)"[^>]*>([^<]*)</textarea>', html
    ):
        data[name] = body
    for name, options in re.findall(
        r'<select id="f-[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', html, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        data[name] = chosen.group(1) if chosen else ""
    for name in re.findall(r'name="([^"]+)" type="checkbox" value="1" checked', html):
        data[name] = "1"
    return data


def test_an_admin_changes_a_stores_settings(rt: Runtime) -> None:
    store = make_store(rt, platform_api_token="shpat_secret_token_1")
    c = console_as(rt, "admin")
    page = c.get("/console/settings")
    assert page.status_code == 200 and store.id in page.text
    form_page = c.get(f"/console/settings/stores/{store.id}")
    assert "shpat_secret_token_1" not in form_page.text  # a secret is never shown
    data = _store_form(c, store.id)
    assert data["hold-period"] == "5" and data["frequency-cap"] == "16"
    data |= {
        "hold-period": "6",
        "sender-email": "hello@shop.example",
        "paused": "1",
        "alert-email": "ops@shop.example\nboss@shop.example",
        "fx-rate": "USD=0.92",
    }
    saved = c.form(f"/console/settings/stores/{store.id}", data)
    assert saved.status_code == 303, saved.text[:2000]
    [after] = [s for s in store_service.list_stores(uow=rt.reader()) if s.id == store.id]
    assert after.settings.hold_period == timedelta(days=6)
    assert after.settings.sender_email == "hello@shop.example" and after.paused
    assert after.settings.alert_emails == ("ops@shop.example", "boss@shop.example")
    assert str(after.settings.fx_rates["USD"]) == "0.92"
    assert after.settings.platform_api_token == "shpat_secret_token_1"  # blank: kept
    [entry] = [
        e for e in list_entries(uow=rt.reader(), store_id=store.id) if e.action == "store.set"
    ]
    assert entry.actor == "console:admin@example.com"
    assert entry.after is not None and entry.after["hold_period_s"] == 6 * 86400
    assert entry.after["paused"] is True


def test_bad_store_settings_come_back_and_save_nothing(rt: Runtime) -> None:
    store = make_store(rt)
    [before] = [s for s in store_service.list_stores(uow=rt.reader()) if s.id == store.id]
    c = console_as(rt, "admin", locale="zh-CN")
    data = _store_form(c, store.id)
    # a field the page reads (hold period) and one the service checks (the address)
    for changed, field, words in (
        ({"hold-period": "9", "sender-name": "New name"}, "hold-period", "3 到 7"),
        (
            {"sender-email": "not-an-address", "sender-name": "New name"},
            "sender-email",
            "请输入邮箱地址",
        ),
        ({"margin-floor": "0.6", "gross-margin": "0.4"}, "margin-floor", "不能高于毛利率"),
    ):
        answer = c.form(f"/console/settings/stores/{store.id}", data | changed)
        assert answer.status_code == 422
        assert f'aria-describedby="e-{field}"' in answer.text and words in answer.text
        assert "未保存" in answer.text
        for name, value in changed.items():
            assert f'value="{value}"' in answer.text, name  # kept as typed
    [after] = [s for s in store_service.list_stores(uow=rt.reader()) if s.id == store.id]
    assert after.settings_json == before.settings_json and not after.paused
    assert after.settings.sender_name is None and after.settings.hold_period.days == 5
    assert ("console:admin@example.com", "store.set") not in _actions(rt, store.id)


def test_an_api_key_is_shown_once_then_revoked_and_rotated(rt: Runtime) -> None:
    store = make_store(rt)
    c = console_as(rt, "admin")
    made = c.form(
        f"/console/settings/stores/{store.id}/keys", {"scope-cases:read": "1", "expires-in": "30"}
    )
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    [secret] = KEY.findall(made.text)
    prefix = secret.split("_")[1]
    listed = c.get(f"/console/settings/stores/{store.id}/keys").text
    assert secret not in listed and f"rk_{prefix}_…" in listed and "cases:read" in listed
    auth = store_service.authenticate(
        uow=rt.reader(), token=secret, scope="cases:read", now=rt.clock()
    )
    assert auth == store.id
    rotated = c.form(f"/console/settings/stores/{store.id}/keys/{prefix}/rotate")
    [new_secret] = KEY.findall(rotated.text)
    assert new_secret != secret
    new_prefix = new_secret.split("_")[1]
    revoked = c.form(f"/console/settings/stores/{store.id}/keys/{new_prefix}/revoke")
    assert revoked.status_code == 303
    keys = {k.prefix: k for k in store_service.list_keys(uow=rt.reader(), store_id=store.id)}
    assert keys[prefix].revoked_at is not None and keys[new_prefix].revoked_at is not None
    assert new_secret not in c.get(f"/console/settings/stores/{store.id}/keys").text
    actions = [a for actor, a in _actions(rt, store.id) if actor == "console:admin@example.com"]
    assert sorted(actions) == ["key.add", "key.revoke", "key.rotate"]
    bad = c.form(f"/console/settings/stores/{store.id}/keys", {"expires-in": "0"})
    assert bad.status_code == 422 and 'aria-describedby="e-expires-in"' in bad.text
    assert len(store_service.list_keys(uow=rt.reader(), store_id=store.id)) == 3


def test_operators_and_viewers_cannot_administer(rt: Runtime) -> None:
    store = make_store(rt)
    for role in ("operator", "viewer"):
        c = console_as(rt, role, [store.id])
        page = c.get("/console/settings")
        assert page.status_code == 200 and store.id in page.text
        assert f"/console/settings/stores/{store.id}/keys" not in page.text
        assert c.get(f"/console/settings/stores/{store.id}").status_code == 403
        assert c.get(f"/console/settings/stores/{store.id}/keys").status_code == 403
        assert c.get("/console/settings/users").status_code == 403
        assert (
            c.form(f"/console/settings/stores/{store.id}", {"hold-period": "6"}).status_code == 403
        )
        assert (
            c.form(f"/console/settings/stores/{store.id}/keys", {"scope-admin": "1"}).status_code
            == 403
        )
        new = {"email": "x@example.com", "role": "admin", "password": "long enough pass"}
        assert c.form("/console/settings/users", new).status_code == 403
    assert len(store_service.list_keys(uow=rt.reader(), store_id=store.id)) == 1
    emails = sorted(u.email for u in user_service.list_users(uow=rt.reader()))
    assert emails == ["operator@example.com", "viewer@example.com"]


def test_channels_are_shown_without_secrets(rt: Runtime) -> None:
    rt.settings = rt.settings.model_copy(
        update={
            "smtp_url": "smtp://mailer:hunter2secret@mail.example:587",
            "sms_url": "https://api.twilio.com",
            "sms_account": "AC123",
            "sms_token": "tok_s3cret",
            "sms_from": "+15550001111",
        }
    )
    c = console_as(rt, "viewer")
    page = c.get("/console/settings").text
    assert "smtp://mail.example:587" in page and "+15550001111" in page
    for secret in ("hunter2secret", "mailer", "tok_s3cret", "AC123"):
        assert secret not in page


def test_an_admin_adds_and_changes_users(rt: Runtime) -> None:
    a, b = make_store(rt), make_store(rt, "B")
    c = console_as(rt, "admin")
    new = {
        "email": "Ana@Agency.example",
        "role": "operator",
        "stores": [a.id],
        "locale": "zh-CN",
        "timezone": "Asia/Shanghai",
        "password": "a long password",
    }
    assert c.form("/console/settings/users", new).status_code == 303
    ana = next(
        u for u in user_service.list_users(uow=rt.reader()) if u.email == "ana@agency.example"
    )
    assert ana.stores == (a.id,) and ana.locale == "zh-CN" and ana.timezone == "Asia/Shanghai"
    assert "ana@agency.example" in c.get("/console/settings/users").text
    changed = {"role": "viewer", "stores": [a.id, b.id], "disabled": "1"}
    assert c.form(f"/console/settings/users/{ana.id}", changed).status_code == 303
    ana = user_service.get_user(uow=rt.reader(), user_id=ana.id or 0)
    assert ana.role == "viewer" and ana.stores == tuple(sorted((a.id, b.id)))
    assert ana.disabled_at is not None
    mine = [act for actor, act in _actions(rt) if actor == "console:admin@example.com"]
    assert "user.add" in mine and "user.set" in mine
    # bad input: the form back with the field marked, nothing saved
    for data, field in (
        (new | {"email": "bob@example.com", "password": "short"}, "password"),
        (new | {"email": "bob@example.com", "timezone": "Mars/Olympus"}, "timezone"),
        (new | {"email": "not an address"}, "email"),
        (new | {"email": "ana@agency.example"}, "email"),
        (new | {"email": "bob@example.com", "stores": ["st_nowhere1"]}, "stores"),
    ):
        answer = c.form("/console/settings/users", data)
        assert answer.status_code == 422, field
        assert f'aria-describedby="e-{field}"' in answer.text, field
        assert "a long password" not in answer.text  # a password never comes back
    assert len(user_service.list_users(uow=rt.reader())) == 2
    me = next(u for u in user_service.list_users(uow=rt.reader()) if u.role == "admin")
    selfish = c.form(f"/console/settings/users/{me.id}", {"role": "viewer"})
    assert selfish.status_code == 422
    assert user_service.get_user(uow=rt.reader(), user_id=me.id or 0).role == "admin"


def test_every_user_changes_their_own_account(rt: Runtime) -> None:
    store = make_store(rt)
    c = console_as(rt, "viewer", [store.id])
    prefs = c.form("/console/settings/account", {"locale": "zh-CN", "timezone": "Asia/Shanghai"})
    assert prefs.status_code == 303
    assert "我的账号" in c.get("/console/settings/account").text
    bad = c.form("/console/settings/account", {"locale": "zh-CN", "timezone": "Nowhere/Land"})
    assert bad.status_code == 422 and "请输入 IANA 时区" in bad.text
    wrong = c.form(
        "/console/settings/account/password",
        {
            "current": "not my password",
            "password": "brand new secret",
            "repeat": "brand new secret",
        },
    )
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.text
    differ = c.form(
        "/console/settings/account/password",
        {"current": PASSWORD, "password": "brand new secret", "repeat": "brand new sekret"},
    )
    assert differ.status_code == 422 and "不一致" in differ.text
    sign_in(rt, "viewer@example.com", PASSWORD)  # unchanged so far
    done = c.form(
        "/console/settings/account/password",
        {"current": PASSWORD, "password": "brand new secret", "repeat": "brand new secret"},
    )
    assert done.status_code == 303 and done.headers["location"] == "/console/login"
    assert c.get("/console/settings", follow_redirects=False).status_code == 303  # signed out
    sign_in(rt, "viewer@example.com", "brand new secret")
    actions = [act for actor, act in _actions(rt) if actor == "console:viewer@example.com"]
    assert actions.count("user.set") == 2
