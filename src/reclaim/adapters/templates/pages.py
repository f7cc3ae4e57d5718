"""The words of the customer-facing pages (the unsubscribe page, the answer page of "What
stopped you?"), in the message's language.

They live in the ``page`` section of each ``data/<locale>.yaml``, next to the messages, so a
language is added in one file. :func:`page_words` picks the language the same way a message
does (:func:`~.formatting.message_locale`): the language of a message's locale if it has
default templates, else the fallback (English), never a mix.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import yaml

from reclaim.adapters.templates.engines import read_data
from reclaim.adapters.templates.formatting import (
    TEMPLATE_LOCALES,
    locale_tag,
    message_locale,
    template_locale,
    text_direction,
)

PAGE_KEYS = (
    "unsubscribe_title",
    "unsubscribe_question",
    "unsubscribe_button",
    "unsubscribed_title",
    "already_unsubscribed",
    "unsubscribed",
    "answer_title",
    "answer_thanks",
    "answer_more",
    "answer_button",
    "answer_sent",
)


@dataclass(frozen=True, slots=True)
class PageWords:
    lang: str  # BCP 47, for <html lang>
    dir: str  # "ltr" | "rtl", for <html dir>
    words: Mapping[str, str]  # PAGE_KEYS; %(store)s and %(address)s are filled in by the caller


_lock = threading.Lock()
_tables: Mapping[str, Mapping[str, str]] | None = None


def _load() -> Mapping[str, Mapping[str, str]]:
    tables: dict[str, Mapping[str, str]] = {}
    for locale in TEMPLATE_LOCALES:
        data = yaml.safe_load(read_data(f"{locale}.yaml"))
        words = {str(k): str(v) for k, v in (data.get("page") or {}).items()}
        if set(words) != set(PAGE_KEYS):
            raise ValueError(
                f"{locale}.yaml: page differs in keys: {sorted(set(words) ^ set(PAGE_KEYS))}"
            )
        tables[locale] = MappingProxyType(words)
    return MappingProxyType(tables)


def page_tables() -> Mapping[str, Mapping[str, str]]:
    """Every locale's page words, read once per process."""
    global _tables  # noqa: PLW0603 - a lazily built process-wide cache
    if _tables is None:
        with _lock:
            if _tables is None:
                _tables = _load()
    return _tables


def page_words(tag: str | None) -> PageWords:
    """The words, ``lang`` and ``dir`` of a page for a message in locale ``tag``."""
    used = message_locale(tag)
    lang = locale_tag(used)
    return PageWords(
        lang=lang, dir=text_direction(used), words=page_tables()[template_locale(lang)]
    )
