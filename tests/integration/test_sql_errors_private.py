"""A failing SQL statement never carries its bound values (a customer's email, name, a raw
webhook body) into the exception's text, and so into the worker's logs (issue 11)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError

from reclaim.adapters.db.engine import make_engine
from reclaim.adapters.db.tables import inbox

EMAIL = "jurgen.private@example.de"
NAME = "Jürgen Privatmann"


def _row(error: str) -> dict[str, object]:
    body = f'{{"email": "{EMAIL}", "name": "{NAME}"}}'.encode()
    return {
        "store_id": "st_private",
        "source": "generic",
        "topic": "checkout.updated",
        "event_id": None,
        "digest": "d" * 64,
        "headers": {"x-customer": EMAIL},
        "body": body,
        "received_at": datetime(2026, 5, 1, 10, 0, tzinfo=UTC),
        "status": "received",
        "error": error,
        "attempts": 0,
        "duplicates": 0,
    }


def _failure(db_url: str, *rows: dict[str, object]) -> DBAPIError:
    engine = make_engine(db_url)
    try:
        with pytest.raises(DBAPIError) as caught, engine.begin() as conn:
            for row in rows:
                conn.execute(insert(inbox), row)
        return caught.value
    finally:
        engine.dispose()


def _assert_private(exc: DBAPIError, caplog: pytest.LogCaptureFixture) -> None:
    # What the worker does with an unexpected error (services/ingest.py, entrypoints/worker.py).
    with caplog.at_level(logging.ERROR, logger="reclaim"):
        try:
            raise exc
        except DBAPIError:
            logging.getLogger("reclaim.services.ingest").exception("delivery 1 failed")
    assert caplog.records, "nothing was logged"
    for text in (str(exc), repr(exc), caplog.text):
        assert EMAIL not in text and NAME not in text
        assert "jurgen" not in text.lower()
    assert "hidden" in str(exc)  # SQLAlchemy says the parameters were left out


def test_a_constraint_violation_shows_no_customer_data(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    row = _row(f"{NAME} <{EMAIL}>")
    exc = _failure(db_url, row, row)  # the same (store, source, digest) twice
    assert "unique" in str(exc).lower()
    _assert_private(exc, caplog)


@pytest.mark.postgres
def test_a_nul_character_on_postgresql_shows_no_customer_data(
    pg_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    exc = _failure(pg_database, _row(f"{NAME} <{EMAIL}>\x00"))
    assert "NUL" in str(exc)
    _assert_private(exc, caplog)
