"""The console's templates (SPEC S4, S11): a save checked as the CLI checks it (the error
beside its part, nothing saved), a version row for every save and reset (console and CLI),
the diff and the rollback, a preview in every locale from the sample or a real case, its
frame's own CSP, a test send that arrives over real SMTP, and who may do what where."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest
from click.testing import CliRunner

from console_support import console_as
from helpers import make_store
from reclaim.bootstrap import Runtime, check_template_cost
from reclaim.domain.cases import Case
from reclaim.domain.events import Contact, LineItem
from reclaim.entrypoints.cli import main
from reclaim.services.audit import list_entries
from reclaim.services.template_versions import list_versions
from reclaim.services.templates import find_template, save_template
from reclaim.sim.mailbox import Mailbox

KEY = "abandoned_checkout/reminder"
SLOT = {"key": KEY, "channel": "email", "locale": "en"}
HTML = (
    '{% extends "layout.html" %}{% block heading %}Still thinking, {{ first_name }}?'
    "{% endblock %}{% block content %}<p>Your basket at {{ store.name }} waits.</p>"
    "{% endblock %}"
)
TEXT = '{% extends "layout.txt" %}{% block content %}Your basket waits.{% endblock %}'


def _form(store_id: str, **parts: str) -> dict[str, str]:
    return {
        "store": store_id,
        **SLOT,
        "subject": "Your basket",
        "html": HTML,
        "text": TEXT,
        **parts,
    }


def _edit_url(store_id: str, locale: str = "en") -> str:
    return f"/console/templates/edit?store={store_id}&key={KEY}&channel=email&locale={locale}"


def test_a_save_is_checked_then_kept_as_a_version(rt: Runtime) -> None:
    store = make_store(rt)
    c = console_as(rt, "operator", [store.id])
    assert c.get(f"/console/templates?store={store.id}").status_code == 200
    page = c.get(_edit_url(store.id))
    assert page.status_code == 200 and "Default template" in page.text

    # an e-mail without the unsubscribe link and the postal address: refused beside the HTML
    bad = c.form("/console/templates/save", _form(store.id, html="<p>Buy now</p>"))
    assert bad.status_code == 422
    field = re.search(r'<textarea id="html" name="html"[^>]*>', bad.text)
    assert field and 'aria-invalid="true"' in field.group(0)
    assert 'id="err-html"' in bad.text and "unsubscribe_url" in unescape(bad.text)
    assert "&lt;p&gt;Buy now&lt;/p&gt;" in bad.text  # what was sent is kept
    assert find_template(uow=rt.reader(), store_id=store.id, **SLOT) is None
    assert list_versions(uow=rt.reader(), store_id=store.id, **SLOT) == []

    bad_syntax = c.form("/console/templates/save", _form(store.id, subject="{{ oops"))
    assert bad_syntax.status_code == 422 and 'id="err-subject"' in bad_syntax.text

    ok = c.form("/console/templates/save", _form(store.id))
    assert ok.status_code == 303
    saved = find_template(uow=rt.reader(), store_id=store.id, **SLOT)
    assert saved is not None and saved["subject"] == "Your basket"
    [version] = list_versions(uow=rt.reader(), store_id=store.id, **SLOT)
    assert version.saved_by == "console:operator@example.com"
    assert version.compiled == saved and version.saved_at == rt.clock()
    assert list_entries(uow=rt.reader(), store_id=store.id)[0].action == "template.set"
    page = c.get(_edit_url(store.id))
    assert "This store&#39;s own template" in page.text and "Your basket" in page.text


def test_diff_and_rollback_restore_an_older_version(rt: Runtime) -> None:
    store = make_store(rt)
    c = console_as(rt, "admin")
    assert c.form("/console/templates/save", _form(store.id)).status_code == 303
    changed = HTML.replace("waits.", "is about to expire.")
    assert c.form("/console/templates/save", _form(store.id, html=changed)).status_code == 303
    second, first = list_versions(uow=rt.reader(), store_id=store.id, **SLOT)

    diff = c.get(f"/console/templates/diff?store={store.id}&id={first.id}")
    assert diff.status_code == 200
    removed = re.findall(r"<del>- (.*?)</del>", diff.text)
    added = re.findall(r"<ins>\+ (.*?)</ins>", diff.text)
    assert any("waits." in r for r in removed) and any("is about to expire." in a for a in added)

    back = c.form("/console/templates/rollback", {"store": store.id, "id": str(first.id)})
    assert back.status_code == 303
    now = find_template(uow=rt.reader(), store_id=store.id, **SLOT)
    assert now == first.compiled and now != second.compiled
    latest = list_versions(uow=rt.reader(), store_id=store.id, **SLOT)
    assert len(latest) == 3 and latest[0].compiled == first.compiled
    assert list_entries(uow=rt.reader(), store_id=store.id)[0].action == "template.rollback"

    # a reset is a version (no template), and rolling back to it resets again
    assert c.form("/console/templates/reset", {"store": store.id, **SLOT}).status_code == 303
    assert find_template(uow=rt.reader(), store_id=store.id, **SLOT) is None
    reset = list_versions(uow=rt.reader(), store_id=store.id, **SLOT)[0]
    assert reset.compiled is None
    assert c.form("/console/templates/rollback", {"store": store.id, "id": str(second.id)})
    assert find_template(uow=rt.reader(), store_id=store.id, **SLOT) == second.compiled


def test_the_cli_and_the_service_write_versions_too(sqlite_rt: Runtime, tmp_path: Path) -> None:
    """Through the commands (SQLite: the command's own runtime is the subject, and it is
    never closed, which PostgreSQL's connections would complain of)."""
    rt = sqlite_rt
    store = make_store(rt)
    (tmp_path / "t.html").write_text(HTML)
    (tmp_path / "t.txt").write_text(TEXT)
    env = {"RECLAIM_DATABASE_URL": rt.settings.database_url}
    where = ["--store", store.id, "--key", KEY, "--locale", "en"]
    files = [
        "--subject",
        "Hi",
        "--html",
        str(tmp_path / "t.html"),
        "--text",
        str(tmp_path / "t.txt"),
    ]
    saved = CliRunner().invoke(main, ["templates", "set", *where, *files], env=env)
    assert saved.exit_code == 0, saved.output
    compiled = find_template(uow=rt.reader(), store_id=store.id, **SLOT)
    assert compiled is not None and compiled["subject"] == "Hi"
    later = rt.clock() + timedelta(hours=1)
    save_template(  # no actor (the simulator, a test): saved by "system"
        uow=rt.uow(),
        store_id=store.id,
        compiled=compiled,
        now=later,
        cost_check=check_template_cost,
        **SLOT,
    )
    reset = CliRunner().invoke(main, ["templates", "reset", *where], env=env)
    assert reset.exit_code == 0, reset.output
    gone, system, first = list_versions(uow=rt.reader(), store_id=store.id, **SLOT)
    assert first.saved_by.startswith("cli:") and first.compiled == compiled
    assert (system.saved_by, system.saved_at) == ("system", later)
    assert gone.saved_by.startswith("cli:") and gone.compiled is None


def _case(rt: Runtime, store_id: str) -> int:
    case = Case(
        store_id=store_id,
        kind="abandoned_checkout",
        subject_id="chk-777",
        customer_key="mei@example.com",
        email="mei@example.com",
        phone=None,
        contact=Contact(email="mei@example.com", first_name="美玲"),
        value=Decimal("88.00"),
        currency="EUR",
        items=(LineItem(name="Silk scarf Qingdao", quantity=1, unit_price=Decimal("88.00")),),
        reason="test",
        occurred_at=rt.clock() - timedelta(hours=2),
        created_at=rt.clock() - timedelta(hours=2),
    )
    uow = rt.uow()
    with uow:
        uow.cases.add(case)
        uow.commit()
    assert case.id is not None
    return case.id


def test_preview_in_chinese_from_a_real_case_in_a_frame_of_its_own(rt: Runtime) -> None:
    store = make_store(rt)
    case_id = _case(rt, store.id)
    c = console_as(rt, "viewer", [store.id])
    base = f"/console/templates/preview?store={store.id}&key={KEY}&channel=email"
    page = c.get(f"{base}&locale=zh-CN")
    assert page.status_code == 200
    assert "的购物车还在等您" in page.text  # the zh-CN template's subject
    assert '<html lang="en">' in page.text  # the console stays in the viewer's language
    for locale in ("en", "de", "fr", "es", "zh-CN", "ja"):
        assert f"locale={locale}" in page.text  # every locale one click away
    assert 'sandbox=""' in page.text

    frame = c.get(
        f"/console/templates/frame?store={store.id}&key={KEY}&locale=zh-CN&case={case_id}"
    )
    assert frame.status_code == 200
    csp = frame.headers["content-security-policy"]
    assert csp.startswith("default-src 'none'; style-src 'unsafe-inline'; img-src https: data:")
    assert "frame-ancestors 'self'" in csp and "script-src" not in csp
    assert frame.headers["x-frame-options"] == "SAMEORIGIN"
    assert "您还有商品没有结算" in frame.text and "Silk scarf Qingdao" in frame.text

    sms = c.get(
        f"/console/templates/preview?store={store.id}&key={KEY}&channel=sms"
        f"&locale=zh-CN&case={case_id}"
    )
    assert sms.status_code == 200 and "您的购物车中还有商品未结算" in sms.text


def test_test_send_arrives_at_the_operators_own_address(mail_rt: Runtime, box: Mailbox) -> None:
    store = make_store(mail_rt)
    c = console_as(mail_rt, "operator", [store.id], email="mei.ops@example.com")
    sent = c.form("/console/templates/test", {"store": store.id, "key": KEY, "locale": "zh-CN"})
    assert sent.status_code == 303, sent.text[:500]
    [mail] = box.received
    assert mail.recipients == ("mei.ops@example.com",)
    message = mail.parsed()
    assert message["To"] == "mei.ops@example.com"
    assert str(message["Subject"]).startswith("[test] ") and "购物车" in str(message["Subject"])
    assert message.get_content_type() == "multipart/alternative"
    html = message.get_body(("html",))
    assert html is not None and "您还有商品没有结算" in html.get_content()
    assert message["List-Unsubscribe"]


def test_without_smtp_the_page_says_so(rt: Runtime) -> None:
    store = make_store(rt)
    c = console_as(rt, "operator", [store.id])
    answer = c.form("/console/templates/test", {"store": store.id, "key": KEY, "locale": "en"})
    assert answer.status_code == 200
    assert "no SMTP server is configured" in answer.text


def test_viewers_may_not_change_templates(rt: Runtime) -> None:
    store = make_store(rt)
    c = console_as(rt, "viewer", [store.id])
    assert c.form("/console/templates/save", _form(store.id)).status_code == 403
    assert c.form("/console/templates/reset", {"store": store.id, **SLOT}).status_code == 403
    test = c.form("/console/templates/test", {"store": store.id, "key": KEY})
    assert test.status_code == 403
    assert find_template(uow=rt.reader(), store_id=store.id, **SLOT) is None


@pytest.mark.parametrize(
    "path", ["templates", "templates/edit", "templates/preview", "templates/frame"]
)
def test_another_stores_templates_are_not_found(rt: Runtime, path: str) -> None:
    mine, theirs = make_store(rt, "Mine"), make_store(rt, "Theirs")
    c = console_as(rt, "operator", [mine.id])
    query = f"store={theirs.id}&key={KEY}&channel=email&locale=en"
    assert c.get(f"/console/{path}?{query}").status_code == 404
    # their case, previewed under my store
    case_id = _case(rt, theirs.id)
    own = f"store={mine.id}&key={KEY}&channel=email&locale=en&case={case_id}"
    assert c.get(f"/console/templates/preview?{own}").status_code == 404
    assert c.form("/console/templates/save", _form(theirs.id)).status_code == 404
    assert find_template(uow=rt.reader(), store_id=theirs.id, **SLOT) is None
