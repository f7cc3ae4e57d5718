"""The log formatter of `reclaim serve` and `reclaim worker` writes no customer's data."""

from __future__ import annotations

import io
import logging

from reclaim.entrypoints.logs import SafeFormatter, mask, setup_logging


def _record(message: str, exc: BaseException | None = None) -> logging.LogRecord:
    info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("reclaim.test", logging.ERROR, __file__, 1, message, (), info)


def test_a_traceback_keeps_frames_and_types_but_not_messages() -> None:
    person = "Erika Mustermann, Hauptstraße 5, erika@example.com"
    body = {"name": "Erika Mustermann"}
    try:
        try:
            raise ValueError(person)  # (a traceback shows these source lines, not the values)
        except ValueError as inner:
            raise RuntimeError(f"body was {body}") from inner
    except RuntimeError as exc:
        text = SafeFormatter("%(message)s").format(_record("delivery 7 failed", exc))
    assert "delivery 7 failed" in text
    assert "builtins.ValueError (message withheld)" in text
    assert "builtins.RuntimeError (message withheld)" in text
    assert "test_a_traceback_keeps_frames_and_types_but_not_messages" in text  # the frames
    assert "Erika" not in text and "Hauptstraße" not in text and "example.com" not in text


def test_addresses_and_phone_numbers_are_masked_but_dates_and_ids_are_not() -> None:
    line = "to erika.m+shop@mail.example.de, +49 151 1234 5678 at 2026-05-01 10:00:00 case 123456"
    masked = mask(line)
    assert "erika" not in masked and "1234 5678" not in masked
    assert masked == "to <email>, <phone> at 2026-05-01 10:00:00 case 123456"


def test_uvicorn_lines_go_through_the_safe_formatter(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        setup_logging("INFO")
        try:
            raise KeyError("ana@example.com")
        except KeyError:
            logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    out = stream.getvalue()
    assert "Exception in ASGI application" in out and "builtins.KeyError" in out
    assert "ana@example.com" not in out
