"""A store trying Reclaim in test mode (``--accept-test-mode``) gets its test deliveries run
as cases marked ``test_mode`` (docs/security.md "Test mode"): no report counts them, on
SQLite, PostgreSQL and the fakes alike (issue 15)."""

from __future__ import annotations

from datetime import timedelta

from fakes import FakeUnitOfWork
from reclaim.bootstrap import Runtime
from reclaim.domain.cases import TEST_MODE_EVENT
from reclaim.services.ports import UnitOfWork
from reclaim.services.reports import build_report, report_json
from report_history import NOW, Spec, _case, make_store
from service_builders import open_store

H = timedelta(hours=1)
# Two real cases (one recovered, 100 EUR) and three test ones (two recovered, 500 EUR):
# the test ones must leave no trace in the figures.
REAL = [Spec("r1", recovered_after=2 * H, value="100"), Spec("r2")]
TEST = [
    Spec("t1", recovered_after=H, value="300"),
    Spec("t2", recovered_after=H, value="200", kind="pending_order"),
    Spec("t3", holdout=True),
]


def _write(uow: UnitOfWork, store_id: str) -> None:
    with uow:
        for spec in (*REAL, *TEST):
            case = _case(store_id, spec)
            uow.cases.add(case)
            assert case.id is not None
            if spec in TEST:
                uow.cases.add_event(case.id, at=spec.at, type=TEST_MODE_EVENT, data={})
        uow.commit()


def _figures(data: dict[str, object]) -> dict[str, object]:
    cases = data["cases"]
    assert isinstance(cases, dict)
    lift = data["lift"]
    assert isinstance(lift, dict)
    return {
        "opened": {k: v["opened"] for k, v in cases.items()},
        "recovered": {k: v["recovered"] for k, v in cases.items()},
        "revenue": data["recovered_revenue"],
        "arms": (lift["messaged"], lift["holdout"]),
    }


EXPECTED = {
    "opened": {"abandoned_checkout": 2, "pending_order": 0, "failed_payment": 0},
    "recovered": {"abandoned_checkout": 1, "pending_order": 0, "failed_payment": 0},
    "revenue": "100.00",
    "arms": (2, 0),
}


def test_cases_opened_from_test_deliveries_are_not_in_the_report(rt: Runtime) -> None:
    store_id = make_store(rt, "Trial", accept_test_mode=True)
    _write(rt.uow(), store_id)
    report = build_report(uow=rt.reader(), store_id=store_id, now=NOW, month="2026-11")
    assert _figures(report_json(report)) == EXPECTED


def test_the_fake_reader_leaves_them_out_too() -> None:
    fake = FakeUnitOfWork()
    store_id = open_store(fake, accept_test_mode=True)
    _write(fake, store_id)
    report = build_report(uow=fake, store_id=store_id, now=NOW, month="2026-11")
    assert _figures(report_json(report)) == EXPECTED
