"""Experiments (services/experiments.py) through the fakes: starting one (its checks, the flow
version each variant runs), assignment when cases open, the split alert raised once and
mailed, the decision rule over several variants, stopping and freezing."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import yaml

from fakes import FakeSenders, FakeUnitOfWork
from reclaim.adapters.flows import default_flow
from reclaim.domain.cases import Case
from reclaim.domain.events import Contact
from reclaim.domain.experiments import Experiment, ExperimentStatus, Variant, assign
from reclaim.domain.flows import Flow, flow_to_data
from reclaim.domain.variants import VariantSpec
from reclaim.errors import Conflict, InvalidInput, NotFound
from reclaim.services.alerts import list_alerts, notify_alerts
from reclaim.services.detection import detect_due
from reclaim.services.experiment_view import Decision, standing
from reclaim.services.experiments import (
    SRM_ALERT,
    check_splits,
    experiment_status,
    start_experiment,
    stop_experiment,
)
from reclaim.services.flows import case_key, set_flow
from service_builders import T0, cart, flow_defaults, ingest, open_store

AB = [VariantSpec("A"), VariantSpec("B", overrides={"after": "3h"})]
AA = [VariantSpec("A"), VariantSpec("B")]


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def store_id(uow: FakeUnitOfWork) -> str:
    return open_store(uow, alert_emails=("ops@shop.example",))


def start(uow: FakeUnitOfWork, store_id: str, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "name": "delay",
        "kind": "abandoned_checkout",
        "variants": AB,
        "step": "reminder",
    }
    args.update(kw)
    return start_experiment(uow=uow, store_id=store_id, defaults=flow_defaults, now=T0, **args)


def test_each_variant_runs_a_flow_version_of_its_own(uow: FakeUnitOfWork, store_id: str) -> None:
    view = start(uow, store_id)
    with uow:
        active = uow.flows.active(store_id, "abandoned_checkout")
        assert active is not None
        a, b = view.experiment.variants
        assert a.flow_id == active.id  # the control runs the store's flow as it is
        other = uow.flows.get(b.flow_id or 0)
        assert other is not None and not other.active  # new cases still start the store's
        assert other.flow.steps[0].after == timedelta(hours=3)
        assert other.flow.steps[1:] == active.flow.steps[1:]
        assert other.flow.name == "Abandoned checkout [delay: B]"
        assert "variant B" in other.source
    assert [(x.key, x.flow_version) for x in view.arms] == [("A", 1), ("B", 2)]
    assert view.decision is Decision.KEEP_RUNNING and view.srm_p == 1.0


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"kind": "lost_parcel"}, "kind"),
        ({"name": " "}, "name"),
        ({"step": "nudge"}, "step"),
        ({"step": "flow"}, "step"),
        ({"variants": [VariantSpec("A")]}, "variants"),
        ({"variants": [VariantSpec("A"), VariantSpec("B", 0)]}, "variants[1].weight"),
        (
            {"variants": [VariantSpec("A"), VariantSpec("B", overrides={"after": "later"})]},
            "variants[1].overrides.after",
        ),
        (
            {"step": None, "variants": [VariantSpec("A"), VariantSpec("B", 1, 9)]},
            "variants[1].flow_version",
        ),
    ],
)
def test_a_bad_start_names_its_field(
    uow: FakeUnitOfWork, store_id: str, kw: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as exc:
        start(uow, store_id, **kw)
    assert exc.value.field == field, exc.value
    with uow:
        assert uow.experiments.list(store_id) == []  # nothing was kept


def test_one_running_experiment_per_store_and_kind(uow: FakeUnitOfWork, store_id: str) -> None:
    start(uow, store_id)
    with pytest.raises(Conflict, match="is running"):
        start(uow, store_id, name="other")
    with pytest.raises(Conflict, match="named 'delay' already"):
        start(uow, store_id, kind="pending_order", step="reminder")
    # an A/A test of another kind may run beside it
    start(uow, store_id, name="orders", kind="pending_order", step=None, variants=AA)
    stop_experiment(uow=uow, store_id=store_id, name="delay", now=T0)
    start(uow, store_id, name="delay again")  # stopped: the kind is free again
    with pytest.raises(NotFound):
        start_experiment(
            uow=uow,
            store_id="st_nosuchstore",
            name="x",
            kind="abandoned_checkout",
            variants=AB,
            step="reminder",
            defaults=flow_defaults,
            now=T0,
        )


def test_a_flow_experiment_runs_the_versions_it_names(uow: FakeUnitOfWork, store_id: str) -> None:
    shorter = replace(
        default_flow("abandoned_checkout"),
        holdout=0.0,
        steps=default_flow("abandoned_checkout").steps[:1],
    )
    source = yaml.safe_dump(flow_to_data(shorter))
    v2 = set_flow(uow=uow, store_id=store_id, source=source, flow=shorter, now=T0)
    view = start(
        uow, store_id, step=None, variants=[VariantSpec("old", 1, 1), VariantSpec("new", 1, v2)]
    )
    assert [(a.key, a.flow_version) for a in view.arms] == [("old", 1), ("new", 2)]
    assert view.experiment.target == "flow"


def _cases(uow: FakeUnitOfWork) -> list[Case]:
    return list(uow.rows("cases"))


def test_cases_opened_are_assigned_by_hashing_the_case(uow: FakeUnitOfWork, store_id: str) -> None:
    view = start(uow, store_id, variants=[VariantSpec("A", 3), *AB[1:]])
    experiment = view.experiment
    for i in range(40):
        ingest(uow, store_id, cart(T0, checkout_id=f"k{i}", email=f"u{i}@example.com"), now=T0)
    assert detect_due(uow=uow, now=T0 + timedelta(hours=1), flows=flow_defaults).opened == 40
    flows = {v.key: v.flow_id for v in experiment.variants}
    seen = set()
    for case in _cases(uow):
        assert case.experiment_id == experiment.id
        expected = assign(
            experiment.id, f"{store_id}:abandoned_checkout:{case.subject_id}", [("A", 3), ("B", 1)]
        )
        assert case.variant == expected and case_key(case).endswith(case.subject_id)
        assert case.flow_id == flows[expected]
        # B's reminder goes out 3 h after the cart was left, A's after 1 h
        assert case.next_step_at == T0 + timedelta(hours=3 if expected == "B" else 1)
        with uow:
            events = [(t, d) for _, t, d in uow.cases.events(case.id or 0)]
        assert (
            "experiment",
            {"experiment": experiment.id, "name": "delay", "variant": expected},
        ) in events
        seen.add(expected)
    assert seen == {"A", "B"}
    [now] = experiment_status(uow=uow, store_id=store_id, now=T0 + timedelta(hours=2))
    counts = {a.key: a.cases for a in now.arms}
    assert counts == {k: sum(c.variant == k for c in _cases(uow)) for k in ("A", "B")}


def test_held_out_cases_stay_out_of_the_experiment(uow: FakeUnitOfWork) -> None:
    store_id = open_store(uow, name="Held")

    def everyone_held(kind: str) -> tuple[str, Flow]:
        source, flow = flow_defaults(kind)
        return source, replace(flow, holdout=0.5)

    for kind in ("abandoned_checkout",):
        source, flow = everyone_held(kind)
        set_flow(uow=uow, store_id=store_id, source=source, flow=flow, now=T0)
    start(uow, store_id)
    for i in range(30):
        ingest(uow, store_id, cart(T0, checkout_id=f"h{i}", email=f"h{i}@example.com"), now=T0)
    detect_due(uow=uow, now=T0 + timedelta(hours=1), flows=flow_defaults)
    held = [c for c in _cases(uow) if c.holdout]
    assert held and all(c.experiment_id is None and c.variant is None for c in held)
    assert all(c.variant in ("A", "B") for c in _cases(uow) if not c.holdout)


def _case(
    store_id: str, n: int, experiment: Experiment, variant: str, *, back: bool, tag: str = ""
) -> Case:
    case = Case(
        store_id=store_id,
        kind="abandoned_checkout",
        subject_id=f"s{tag}{experiment.id}{variant}{n}",
        customer_key=f"{n}@example.com",
        email=f"{n}@example.com",
        phone=None,
        contact=Contact(email=f"{n}@example.com"),
        value=Decimal(10),
        currency="EUR",
        items=(),
        reason="test",
        occurred_at=T0,
        created_at=T0 + timedelta(minutes=n),
        experiment_id=experiment.id,
        variant=variant,
    )
    if back:
        case.recover(at=T0 + timedelta(hours=5), order_external_id=None, value=None, how="paid")
    return case


def _write(
    uow: FakeUnitOfWork, store_id: str, experiment: Experiment, **split: tuple[int, int]
) -> None:
    with uow:
        for variant, (n, back) in split.items():
            for i in range(n):
                tag = str(len(uow.tables.cases))
                uow.cases.add(_case(store_id, i, experiment, variant, back=i < back, tag=tag))
        uow.commit()


def test_a_broken_split_raises_one_alert_that_is_mailed(uow: FakeUnitOfWork, store_id: str) -> None:
    experiment = start(uow, store_id).experiment
    _write(uow, store_id, experiment, A=(104, 20), B=(96, 20))
    assert check_splits(uow=uow, now=T0) == 0  # 104:96 of 1:1 is chance (p ≈ 0.57)
    # then 300 more to A and 100 to B: 404:196 of 1:1 is not (chi-square 72, 1 degree of
    # freedom: p ≈ 2e-17)
    _write(uow, store_id, experiment, A=(300, 60), B=(100, 20))
    assert check_splits(uow=uow, now=T0 + timedelta(hours=1)) == 1
    assert check_splits(uow=uow, now=T0 + timedelta(hours=2)) == 0  # once per experiment
    [alert] = list_alerts(uow=uow, store_id=store_id)
    assert alert.type == SRM_ALERT and alert.at == T0 + timedelta(hours=1)
    assert alert.data["cases"] == {"A": 404, "B": 196}
    assert alert.data["experiment_id"] == experiment.id
    assert "split its cases A 404, B 196 against weights 1:1" in alert.message
    senders = FakeSenders()
    assert notify_alerts(uow=uow, senders=senders, now=T0 + timedelta(hours=2)).emailed == 1
    [mail] = senders.emails
    assert mail.to == "ops@shop.example" and "split between variants is broken" in mail.subject
    [view] = experiment_status(uow=uow, store_id=store_id, now=T0, name="delay")
    assert view.decision is Decision.SAMPLE_RATIO_MISMATCH and view.winner is None
    # another experiment with the same broken split gets its own alert
    stop_experiment(uow=uow, store_id=store_id, name="delay", now=T0 + timedelta(hours=3))
    second = start(uow, store_id, name="again").experiment
    _write(uow, store_id, second, A=(30, 0))
    assert check_splits(uow=uow, now=T0 + timedelta(hours=4)) == 1


def test_stopping_freezes_the_decision(uow: FakeUnitOfWork, store_id: str) -> None:
    experiment = start(uow, store_id).experiment
    _write(uow, store_id, experiment, A=(150, 30), B=(150, 60))
    stopped = stop_experiment(uow=uow, store_id=store_id, name="delay", now=T0 + timedelta(days=1))
    assert stopped.decision is Decision.WINNER and stopped.winner == "B"
    assert stopped.experiment.status == ExperimentStatus.STOPPED
    assert stopped.as_of == T0 + timedelta(days=1)
    # more recoveries of A's cases later change nothing of what was decided
    with uow:
        for case in uow.cases.page(
            store_id=store_id, status=None, kind=None, since=None, after_id=None, limit=500
        ):
            if case.variant == "A":
                case.recover(at=T0, order_external_id=None, value=None, how="paid")
        uow.commit()
    [later] = experiment_status(uow=uow, store_id=store_id, now=T0 + timedelta(days=9))
    assert [(a.key, a.cases, a.recovered) for a in later.arms] == [("A", 150, 30), ("B", 150, 60)]
    assert (later.decision, later.winner, later.evidence) == (
        stopped.decision,
        stopped.winner,
        stopped.evidence,
    )
    again = stop_experiment(uow=uow, store_id=store_id, name="delay", now=T0 + timedelta(days=9))
    assert again.experiment.stopped_at == T0 + timedelta(days=1)  # a second stop changes nothing
    # a case opened after the stop runs the store's flow, in no variant
    ingest(uow, store_id, cart(T0 + timedelta(days=2), checkout_id="late"), now=T0)
    detect_due(uow=uow, now=T0 + timedelta(days=3), flows=flow_defaults)
    [late] = [c for c in _cases(uow) if c.subject_id == "late"]
    assert (late.experiment_id, late.variant) == (None, None)


def _standing(**split: tuple[int, int]) -> Any:
    keys = list(split)
    experiment = Experiment(
        store_id="st_1",
        name="n",
        kind="abandoned_checkout",
        target="reminder",
        variants=tuple(Variant(k, 1, None, {}) for k in keys),
        started_at=T0,
        id=1,
    )
    return standing(experiment, split, versions={}, as_of=T0)


def test_the_decision_over_several_variants() -> None:
    # each comparison at alpha 0.05 / 2; B and C both beat A, C by more
    view = _standing(A=(300, 45), B=(300, 90), C=(300, 110))
    assert view.alpha == 0.025
    assert [c.winner for c in view.comparisons] == ["B", "C"]
    assert (view.decision, view.winner) == (Decision.WINNER, "C")
    assert view.evidence.startswith("C beats A with the highest rate")
    # the control beats every variant
    worse = _standing(A=(300, 110), B=(300, 45), C=(300, 50))
    assert (worse.decision, worse.winner) == (Decision.WINNER, "A")
    # too few cases: no claim
    early = _standing(A=(50, 10), B=(50, 30), C=(50, 10))
    assert (early.decision, early.winner) == (Decision.KEEP_RUNNING, None)
    assert all(not c.result.tested for c in early.comparisons)
    # equal rates in large arms: the confidence sequences sit inside ± 2 points
    same = _standing(A=(40000, 8000), B=(40000, 8000), C=(40000, 8000))
    assert (same.decision, same.winner) == (Decision.NO_DIFFERENCE, None)
    # a variant assigned cases it was never designed for breaks the split
    stray = _standing(A=(150, 30), B=(150, 30))
    stray_counts = {"A": (150, 30), "B": (150, 30), "Z": (3, 0)}
    odd = standing(stray.experiment, stray_counts, versions={}, as_of=T0)
    assert odd.srm_p == 0.0 and odd.decision is Decision.SAMPLE_RATIO_MISMATCH


def test_an_experiment_of_another_store_is_not_found(uow: FakeUnitOfWork, store_id: str) -> None:
    experiment = start(uow, store_id).experiment
    other = open_store(uow, name="Other")
    with pytest.raises(NotFound):
        experiment_status(uow=uow, store_id=other, now=T0, experiment_id=experiment.id)
    with pytest.raises(NotFound):
        stop_experiment(uow=uow, store_id=other, now=T0, experiment_id=experiment.id)
    with pytest.raises(NotFound, match="no experiment named"):
        stop_experiment(uow=uow, store_id=store_id, now=T0, name="nope")
