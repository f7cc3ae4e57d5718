"""The inserts several repositories share: one that skips the rows already there, and
multi-row inserts of mapped records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session, make_transient_to_detached

from reclaim.adapters.db.dialect import many_rows, upsert


def insert_ignore(s: Session, table: Any) -> Any:
    return upsert(s, table).on_conflict_do_nothing()


def insert_many(s: Session, table: Table, records: Sequence[Any], key: Sequence[str]) -> None:
    """Insert mapped ``records`` of ``table`` and make them the session's, as if loaded.

    The ORM writes such rows one ``INSERT … RETURNING id`` each on SQLite (it cannot tell
    which returned row is which); here they go in multi-row statements whose returned ids are
    matched back by the ``key`` columns, which must tell the records apart (else, or for a
    single record, the ORM's own way is used)."""
    keys = [tuple(getattr(r, k) for k in key) for r in records]
    if len(records) < 2 or len(set(keys)) != len(keys) or any(None in k for k in keys):
        s.add_all(records)
        s.flush()
        return
    columns = [c.key for c in table.columns if c.key != "id"]
    rows = [{k: getattr(r, k) for k in columns} for r in records]
    # executemany with RETURNING: SQLAlchemy batches it into multi-row statements
    # ("insertmanyvalues") from one cached compiled form.
    returned = s.execute(
        insert(table)
        .returning(*(table.c[k] for k in key), table.c.id)
        .execution_options(**many_rows(s, table)),
        rows,
    )
    ids = {tuple(row[:-1]): row[-1] for row in returned}
    for record, record_key in zip(records, keys, strict=True):
        record.id = ids[record_key]
        make_transient_to_detached(record)
        s.add(record)
