"""The console's audit log (issue 13): admins only, newest first a page at a time, times in the
admin's zone, and a change made in the console shown with who made it and before → after."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

from console_support import console_as
from reclaim.bootstrap import Runtime
from reclaim.domain.audit import Actor
from reclaim.entrypoints.console.render import Formats
from reclaim.services.audit import list_entries, record
from service_builders import open_store

START = {
    "store": "",
    "name": "delay",
    "kind": "abandoned_checkout",
    "step": "reminder",
    "v0_key": "A", "v0_weight": "1", "v0_flow": "", "v0_changes": "",
    "v1_key": "B", "v1_weight": "1", "v1_flow": "", "v1_changes": "after=3h",
}  # fmt: skip


def test_only_admins_read_the_log(rt: Runtime) -> None:
    store_id = open_store(rt.uow())
    for role in ("viewer", "operator"):
        c = console_as(rt, role, [store_id])
        assert c.get("/console/audit").status_code == 403
        assert c.get(f"/console/audit?store={store_id}").status_code == 403
        assert 'href="/console/audit"' not in c.get("/console/dashboard").text
    admin = console_as(rt, "admin")
    assert admin.get("/console/audit").status_code == 200
    assert admin.get("/console/audit?store=st_nosuchstore").status_code == 404


def test_a_console_change_is_in_the_log_with_its_before_and_after(rt: Runtime, clock: Any) -> None:
    store_id = open_store(rt.uow())
    operator = console_as(rt, "operator", [store_id])
    clock.advance(minutes=5)
    assert (
        operator.form("/console/experiments/start", {**START, "store": store_id}).status_code == 303
    )
    clock.advance(minutes=5)
    (entry,) = [
        e
        for e in list_entries(uow=rt.reader(), store_id=store_id)
        if e.action == "experiment.start"
    ]
    made = entry.id
    stop_at = rt.clock()
    experiment = operator.get(f"/console/experiments?store={store_id}").text
    found = re.search(r'action="/console/experiments/(\d+)/stop"', experiment)
    assert found
    assert (
        operator.form(
            f"/console/experiments/{found.group(1)}/stop", {"store": store_id}
        ).status_code
        == 303
    )

    admin = console_as(rt, "admin", timezone="Asia/Shanghai", email="boss@example.com")
    page = admin.get(f"/console/audit?store={store_id}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    rows = re.findall(r'<tr id="entry-(\d+)">(.*?)</tr>', text, flags=re.S)
    ids = [int(i) for i, _ in rows]
    assert ids == sorted(ids, reverse=True) and made in ids  # newest first
    stop_row = next(body for _, body in rows if "experiment.stop" in body)
    assert "console:operator@example.com" in stop_row
    assert re.search(r"<del[^>]*>running</del> → <ins[^>]*>stopped</ins>", stop_row)
    assert Formats("en", "Asia/Shanghai").when(stop_at) in stop_row
    start_row = dict(rows)[str(made)]
    assert "experiment delay" in start_row and "<ins" in start_row and "reminder" in start_row


def test_the_log_is_paged_newest_first(rt: Runtime, clock: Any) -> None:
    store_id = open_store(rt.uow())
    other = open_store(rt.uow(), "Other")
    uow = rt.uow()
    with uow:
        for n in range(60):
            at = clock.now + timedelta(minutes=n)
            record(uow, Actor("cli:tester", at), "store.set", f"store {store_id}", store_id=store_id,
                   before={"n": n - 1}, after={"n": n})  # fmt: skip
        record(uow, Actor("cli:tester", clock.now), "store.set", "elsewhere", store_id=other)
        uow.commit()
    admin = console_as(rt, "admin")
    first = admin.get(f"/console/audit?store={store_id}")
    ids = [int(i) for i in re.findall(r'<tr id="entry-(\d+)">', first.text)]
    assert len(ids) == 50 and ids == sorted(ids, reverse=True)
    assert "elsewhere" not in first.text
    assert re.search(r"<del[^>]*>58</del> → <ins[^>]*>59</ins>", first.text)
    older = re.search(r'rel="next" href="([^"]+)"', first.text)
    assert older
    second = admin.get(html.unescape(older.group(1)))
    more = [int(i) for i in re.findall(r'<tr id="entry-(\d+)">', second.text)]
    assert len(more) == 10 and max(more) < min(ids)
    assert 'rel="next"' not in second.text
    everything = admin.get("/console/audit").text
    assert "elsewhere" in everything  # every store's entries without a filter
