"""The console's experiments (issue 13): the list shows each experiment as the status view has
it, an operator starts and stops one (both in the audit log as ``console:<email>``), bad
input comes back as the form with the field marked in the user's language and nothing saved,
a viewer may only read, and another store's experiment is not found."""

from __future__ import annotations

import re
from typing import Any

import pytest

from console_support import ConsoleClient, console_as
from reclaim.bootstrap import Runtime
from reclaim.entrypoints.console.words import Words
from reclaim.services.audit import list_entries
from reclaim.services.experiments import experiment_status
from service_builders import open_store

FORM = {
    "name": "delay",
    "kind": "abandoned_checkout",
    "step": "reminder",
    "v0_key": "A", "v0_weight": "1", "v0_flow": "", "v0_changes": "",
    "v1_key": "B", "v1_weight": "2", "v1_flow": "", "v1_changes": "after=3h",
    "v2_key": "", "v2_weight": "1", "v2_flow": "", "v2_changes": "",
}  # fmt: skip


def _start(c: ConsoleClient, store_id: str, **change: str) -> Any:
    return c.form("/console/experiments/start", {**FORM, "store": store_id, **change})


def _views(rt: Runtime, store_id: str) -> list[Any]:
    return experiment_status(uow=rt.reader(), store_id=store_id, now=rt.clock())


def test_an_operator_starts_and_stops_an_experiment_in_the_audit_log(rt: Runtime) -> None:
    store_id = open_store(rt.uow())
    c = console_as(rt, "operator", [store_id])
    answer = _start(c, store_id)
    assert answer.status_code == 303, answer.text[:2000]
    (view,) = _views(rt, store_id)
    e = view.experiment
    assert (e.name, e.kind, e.target) == ("delay", "abandoned_checkout", "reminder")
    assert [(a.key, a.weight, dict(a.overrides)) for a in view.arms] == [
        ("A", 1, {}),
        ("B", 2, {"after": "3h"}),
    ]
    assert answer.headers["location"].endswith(f"#experiment-{e.id}")
    page = c.get(answer.headers["location"].split("#")[0])
    assert page.status_code == 200
    assert f'id="experiment-{e.id}"' in page.text and "after=3h" in page.text
    assert "Keep running" in page.text and Words("en")("experiments.started") in page.text

    stopped = c.form(f"/console/experiments/{e.id}/stop", {"store": store_id})
    assert stopped.status_code == 303
    (view,) = _views(rt, store_id)
    assert view.experiment.status == "stopped"
    entries = list_entries(uow=rt.reader(), store_id=store_id)
    made = {(x.action, x.actor) for x in entries}
    assert ("experiment.start", "console:operator@example.com") in made
    assert ("experiment.stop", "console:operator@example.com") in made
    assert "Stop and freeze" not in c.get(f"/console/experiments?store={store_id}").text


@pytest.mark.parametrize(
    ("change", "field", "key"),
    [
        ({"name": ""}, "name", "experiments.bad.name"),
        ({"step": "nudge"}, "step", "experiments.bad.step"),
        ({"v1_key": "", "v1_changes": ""}, "variants", "experiments.bad.variants"),
        ({"v1_changes": "after=soon"}, "v1_changes", "experiments.bad.changes"),
        ({"v1_changes": "colour=red"}, "v1_changes", "experiments.bad.changes"),
        ({"v1_changes": "after"}, "v1_changes", "experiments.bad.changes"),
        ({"v1_weight": "0"}, "v1_weight", "experiments.bad.weight"),
        ({"v1_weight": "two"}, "v1_weight", "experiments.bad.weight"),
        ({"v1_key": "A"}, "v1_key", "experiments.bad.key"),
        ({"kind": "parcel"}, "kind", "experiments.bad.kind"),
    ],
)
def test_bad_input_is_the_form_back_and_nothing_saved(
    rt: Runtime, change: dict[str, str], field: str, key: str
) -> None:
    store_id = open_store(rt.uow())
    c = console_as(rt, "operator", [store_id], locale="zh-CN")
    answer = _start(c, store_id, **change)
    assert answer.status_code == 422, answer.text[:1000]
    marked = "aria-describedby" if field == "variants" else "aria-invalid"  # a fieldset
    assert re.search(rf'id="{field}"[^>]*{marked}="', answer.text), field
    assert Words("zh-CN")(key) in answer.text
    assert _views(rt, store_id) == []
    # the values sent are kept
    assert 'value="delay"' in answer.text or change.get("name") == ""
    assert list_entries(uow=rt.reader(), store_id=store_id) == []


def test_a_second_experiment_of_a_kind_or_name_is_refused(rt: Runtime) -> None:
    store_id = open_store(rt.uow())
    c = console_as(rt, "admin")
    assert _start(c, store_id).status_code == 303
    again = _start(c, store_id, name="other")
    assert again.status_code == 422
    assert re.search(r'id="kind"[^>]*aria-invalid="true"', again.text)
    taken = _start(c, store_id, kind="pending_order")
    assert taken.status_code == 422
    assert Words("en")("experiments.bad.name_taken") in taken.text
    assert len(_views(rt, store_id)) == 1


def test_a_viewer_reads_but_cannot_start_or_stop(rt: Runtime) -> None:
    store_id = open_store(rt.uow())
    _start(console_as(rt, "operator", [store_id]), store_id)
    (view,) = _views(rt, store_id)
    c = console_as(rt, "viewer", [store_id])
    page = c.get(f"/console/experiments?store={store_id}")
    assert page.status_code == 200 and "delay" in page.text
    assert "start-form" not in page.text and "/stop" not in page.text
    assert _start(c, store_id, name="mine").status_code == 403
    stop = c.form(f"/console/experiments/{view.experiment.id}/stop", {"store": store_id})
    assert stop.status_code == 403
    assert _views(rt, store_id)[0].experiment.status == "running"


def test_another_stores_experiments_are_not_found(rt: Runtime) -> None:
    theirs = open_store(rt.uow(), "Theirs")
    mine = open_store(rt.uow(), "Mine")
    _start(console_as(rt, "admin"), theirs)
    (view,) = _views(rt, theirs)
    c = console_as(rt, "operator", [mine])
    assert c.get(f"/console/experiments?store={theirs}").status_code == 404
    assert _start(c, theirs, name="x").status_code == 404
    # their experiment through my store: no such experiment here
    stop = c.form(f"/console/experiments/{view.experiment.id}/stop", {"store": mine})
    assert stop.status_code == 404
    assert _views(rt, theirs)[0].experiment.status == "running"


def test_without_csrf_nothing_starts(rt: Runtime) -> None:
    store_id = open_store(rt.uow())
    c = console_as(rt, "operator", [store_id])
    answer = c.post("/console/experiments/start", data={**FORM, "store": store_id},
                    follow_redirects=False)  # fmt: skip
    assert answer.status_code == 403
    assert _views(rt, store_id) == []
