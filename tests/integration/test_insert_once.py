"""Repository writes that keep a row once say whether they kept it, on both databases (on
PostgreSQL the rowcount of an ``ON CONFLICT DO NOTHING`` run through the session is -1, which
once made every repeat look new)."""

from __future__ import annotations

from datetime import UTC, datetime

from reclaim.adapters.db.engine import make_engine
from reclaim.bootstrap import bootstrap, init_database
from reclaim.config import Settings

NOW = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def test_a_repeat_is_not_new(db_url: str) -> None:
    rt = bootstrap(Settings(database_url=db_url))
    init_database(rt)
    try:
        answers = []
        for _ in range(2):
            with rt.uow() as uow:
                answers.append(
                    (
                        uow.suppressions.add(
                            store_id="st_1",
                            channel="email",
                            address_key="a" * 64,
                            reason="manual",
                            at=NOW,
                            message_id=None,
                        ),
                        uow.platform_actions.add(
                            store_id="st_1", action="cancel_order", order_external_id="o1", now=NOW
                        ),
                        uow.logistics.add_scan(
                            "st_1", "sh1", status="in_transit", location="Paris", occurred_at=NOW
                        ),
                    )
                )
                uow.commit()
        with rt.uow() as uow:  # of two workers, one takes an alert's notice
            uow.alerts.add(store_id="st_1", at=NOW, type="complaint_rate", data={"sent": 1})
            uow.commit()
        with rt.uow() as uow:
            [(alert_id, *_)] = uow.alerts.unnotified()
            taken = [uow.alerts.claim_notice(alert_id, NOW) for _ in range(2)]
            uow.alerts.release_notice(alert_id)
            again = uow.alerts.claim_notice(alert_id, NOW)
            uow.commit()
    finally:
        rt.close()
    assert answers == [(True, True, True), (False, False, False)]
    assert (taken, again) == ([True, False], True)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            counts = [
                conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
                for t in ("suppressions", "platform_actions", "shipment_scans")
            ]
    finally:
        engine.dispose()
    assert counts == [1, 1, 1]
