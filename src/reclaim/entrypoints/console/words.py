"""The console's words in English and Simplified Chinese (SPEC S11).

One YAML file a page group under ``words/`` (``core.yaml``, ``queue.yaml`` …), each key with
its ``en`` and ``zh-CN`` text side by side, so that a page's author writes both at once and a
test (tests/unit/console/test_words.py) finds a key missing a language or used by a template
and defined nowhere. ``{name}`` placeholders are filled by :meth:`Words.t`.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib import resources
from typing import Any

import yaml

from reclaim.domain.users import LOCALES

log = logging.getLogger(__name__)


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """Every key of every ``words/*.yaml``: key -> {locale: text}."""
    found: dict[str, dict[str, str]] = {}
    folder = resources.files("reclaim.entrypoints.console").joinpath("words")
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".yaml"):
            continue
        data: dict[str, Any] = yaml.safe_load(item.read_text(encoding="utf-8")) or {}
        for key, texts in data.items():
            if key in found:
                raise ValueError(f"console word {key!r} is defined twice ({item.name})")
            found[key] = {str(k): str(v) for k, v in texts.items()}
    return found


class Words:
    """The words of one locale: ``t("queue.title")``, ``t("queue.count", n=3)``. Where a key
    has a ``<key>.one`` form (English's singular), ``n`` equal to 1 takes it."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in LOCALES else "en"

    def t(self, key: str, /, **values: object) -> str:
        if str(values.get("n", "")) == "1" and f"{key}.one" in catalogue():
            key = f"{key}.one"
        texts = catalogue().get(key)
        if texts is None:
            log.warning("console word %s is missing", key)
            return key
        text = texts.get(self.locale) or texts.get("en") or key
        return text.format(**values) if values else text

    __call__ = t
