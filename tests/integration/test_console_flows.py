"""The console's flows (SPEC S3, S11): the steps table, an edit refused with the error beside
its field and nothing saved, then saved and active; the diff against the active version; a
rollback; who may do what, and stores the user does not see."""

from __future__ import annotations

import re

import pytest

from console_support import console_as
from helpers import make_store
from reclaim.bootstrap import Runtime
from reclaim.services.audit import list_entries
from reclaim.services.flows import list_flows

KIND = "abandoned_checkout"


def _active(rt: Runtime, store_id: str, kind: str = KIND):  # type: ignore[no-untyped-def]
    return next(
        v for v in list_flows(uow=rt.reader(), store_id=store_id) if v.kind == kind and v.active
    )


def _steps_form(page: str) -> dict[str, str]:
    """Every field of the step form as the page filled it in."""
    form = page[page.index('action="/console/flows/steps"') :]
    form = form[: form.index("</form>")]
    values = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
    for name, body in re.findall(
        r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', form, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        values[name] = chosen.group(1) if chosen else ""
    values.pop("csrf", None)
    return values


def test_the_page_shows_each_kinds_steps(rt: Runtime) -> None:
    store = make_store(rt)
    c = console_as(rt, "viewer", [store.id])
    page = c.get(f"/console/flows?store={store.id}")
    assert page.status_code == 200
    for key in ("reminder", "help", "incentive"):
        assert f"<code>{key}</code>" in page.text
    assert "abandoned_checkout/incentive" in page.text
    assert "10 % off" in page.text  # the incentive step's coupon
    assert "<td>3d" in page.text  # 72 h


def test_a_step_edit_refused_beside_its_field_then_saved(rt: Runtime) -> None:
    store = make_store(rt)
    c = console_as(rt, "operator", [store.id])
    before = _active(rt, store.id)
    edit = c.get(f"/console/flows/edit?store={store.id}&kind={KIND}")
    assert edit.status_code == 200
    values = _steps_form(edit.text)
    assert values["s0_after"] == "1h" and values["count"] == "3"

    bad = c.form("/console/flows/steps", {**values, "s1_after": "soon"})
    assert bad.status_code == 422
    # the error sits under the delay of the second step, which is marked invalid
    field = re.search(r'<input id="s1_after" name="s1_after" value="soon"[^>]*>', bad.text)
    assert field and 'aria-invalid="true"' in field.group(0)
    assert 'id="err-s1_after"' in bad.text and "steps[1].after" in bad.text
    assert "This cannot be saved:" in bad.text
    assert _active(rt, store.id).version == before.version  # nothing saved

    good = c.form(
        "/console/flows/steps",
        {**values, "s1_after": "12h", "s1_countries": "de, fr", "s2_incentive_value": "15"},
    )
    assert good.status_code == 303, good.text[:400]
    now = _active(rt, store.id)
    assert now.version == before.version + 1
    help_step = now.flow.steps[1]
    assert help_step.after.total_seconds() == 12 * 3600
    assert help_step.conditions.countries == frozenset({"DE", "FR"})
    assert (
        now.flow.steps[2].incentive is not None and str(now.flow.steps[2].incentive.value) == "15"
    )
    entries = list_entries(uow=rt.reader(), store_id=store.id)
    assert entries[0].action == "flow.set" and entries[0].actor == "console:operator@example.com"


def test_source_edit_error_names_the_line_and_the_diff_and_rollback(rt: Runtime) -> None:
    store = make_store(rt)
    c = console_as(rt, "admin")
    v1 = _active(rt, store.id)
    source = v1.source.replace("after: 1d", "after: tomorrow")
    assert source != v1.source
    bad = c.form("/console/flows/source", {"store": store.id, "kind": KIND, "source": source})
    assert bad.status_code == 422
    assert 'id="err-source"' in bad.text and "steps[1].after" in bad.text
    line = next(i for i, text in enumerate(source.splitlines(), 1) if "tomorrow" in text)
    assert f"(line {line})" in bad.text
    assert "after: tomorrow" in bad.text  # what was sent is kept
    assert _active(rt, store.id).version == v1.version

    changed = v1.source.replace("after: 1d", "after: 20h")
    ok = c.form("/console/flows/source", {"store": store.id, "kind": KIND, "source": changed})
    assert ok.status_code == 303
    v2 = _active(rt, store.id)
    assert v2.version == v1.version + 1 and v2.source == changed

    diff = c.get(f"/console/flows/diff?store={store.id}&id={v1.id}")
    assert diff.status_code == 200
    assert "<del>- " in diff.text and "<ins>+ " in diff.text
    removed = re.findall(r"<del>- (.*?)</del>", diff.text)
    added = re.findall(r"<ins>\+ (.*?)</ins>", diff.text)
    assert any("1d" in r for r in removed) and any("20h" in a for a in added)

    back = c.form("/console/flows/rollback", {"store": store.id, "id": str(v1.id)})
    assert back.status_code == 303
    v3 = _active(rt, store.id)
    assert v3.version == v2.version + 1 and v3.source == v1.source
    page = c.get(f"/console/flows?store={store.id}").text
    assert "console:admin@example.com" in page  # who saved the versions
    assert list_entries(uow=rt.reader(), store_id=store.id)[0].action == "flow.rollback"


def test_a_flow_for_another_kind_is_refused(rt: Runtime) -> None:
    store = make_store(rt)
    c = console_as(rt, "admin")
    other = _active(rt, store.id, "pending_order").source
    bad = c.form("/console/flows/source", {"store": store.id, "kind": KIND, "source": other})
    assert bad.status_code == 422 and "not abandoned_checkout" in bad.text
    assert _active(rt, store.id, "pending_order").version == 1


def test_viewers_read_but_do_not_edit(rt: Runtime) -> None:
    store = make_store(rt)
    c = console_as(rt, "viewer", [store.id])
    v1 = _active(rt, store.id)
    assert c.get(f"/console/flows?store={store.id}").status_code == 200
    assert "/console/flows/edit" not in c.get(f"/console/flows?store={store.id}").text
    assert c.get(f"/console/flows/edit?store={store.id}&kind={KIND}").status_code == 403
    answer = c.form("/console/flows/source", {"store": store.id, "kind": KIND, "source": v1.source})
    assert answer.status_code == 403
    assert (
        c.form("/console/flows/rollback", {"store": store.id, "id": str(v1.id)}).status_code == 403
    )
    assert _active(rt, store.id).version == v1.version


@pytest.mark.parametrize("path", ["flows", "flows/edit", "flows/diff"])
def test_another_stores_flows_are_not_found(rt: Runtime, path: str) -> None:
    mine, theirs = make_store(rt, "Mine"), make_store(rt, "Theirs")
    c = console_as(rt, "operator", [mine.id])
    other = _active(rt, theirs.id)
    answer = c.get(f"/console/{path}?store={theirs.id}&kind={KIND}&id={other.id}")
    assert answer.status_code == 404
    # a version of their store, asked for under mine
    assert c.get(f"/console/flows/diff?store={mine.id}&id={other.id}").status_code == 404
    rolled = c.form("/console/flows/rollback", {"store": mine.id, "id": str(other.id)})
    assert rolled.status_code == 404
    assert _active(rt, theirs.id).version == other.version
