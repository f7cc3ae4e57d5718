"""Logs that carry no customer's data (docs/security.md).

Reclaim's own log lines name ids, fields and counts, never values. What it cannot word
itself, an exception raised deep in a library, is where personal data slips in: a database
error quoting the row it refused, a decoder quoting the text it choked on. So a traceback is
written as its frames and the names of its exceptions, never their messages, and whatever
still looks like an email address or a phone number in a line is masked.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from types import TracebackType

FORMAT = '{"at":"%(asctime)s","level":"%(levelname)s","logger":"%(name)s","msg":"%(message)s"}'

_EMAIL = re.compile(r"[^\s\"'<>(),;:@]{1,64}@[^\s\"'<>(),;:@]{1,255}\.[^\s\"'<>(),;:@]{2,63}")
_PHONE = re.compile(r"\+\d[\d ./-]{6,}\d")
_DIGITS = re.compile(r"\d")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def mask(line: str) -> str:
    """Mask email addresses and international phone numbers (+ and 9 digits or more)."""
    line = _EMAIL.sub("<email>", line)
    return _PHONE.sub(lambda m: "<phone>" if len(_DIGITS.findall(m[0])) >= 9 else m[0], line)


class SafeFormatter(logging.Formatter):
    def formatException(self, ei: ExcInfo | tuple[None, None, None]) -> str:
        if ei[1] is None:
            return ""
        parts: list[str] = []
        seen: set[int] = set()
        exc: BaseException | None = ei[1]
        while exc is not None and id(exc) not in seen:
            seen.add(id(exc))
            frames = traceback.extract_tb(exc.__traceback__)
            parts.append(
                "".join(traceback.format_list(frames))
                + f"{type(exc).__module__}.{type(exc).__qualname__} (message withheld)"
            )
            exc = exc.__cause__ or exc.__context__
        return "Traceback (most recent call last):\n" + "\nwhich happened while handling:\n".join(
            reversed(parts)
        )

    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


def setup_logging(level: str) -> None:
    """One stderr handler for Reclaim, uvicorn and every library, through the safe formatter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeFormatter(FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        named = logging.getLogger(name)
        named.handlers.clear()
        named.propagate = True
