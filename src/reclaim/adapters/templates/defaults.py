"""The default templates shipped in ``data/<locale>.yaml``, compiled once per process.

Each locale file has ``labels`` (words of the shared layout), a ``prelude`` (Jinja ``set``
statements naming phrases several parts use) and per template key: ``subject``, ``preheader``,
``heading``, ``body`` (HTML), ``cta`` (button label) and ``sms``. From these come, per key and
locale, the same :class:`CompiledTemplate` objects a merchant's own templates are:

- e-mail: an HTML child of ``layout.html`` (CSS inlined here, once) and a text child of
  ``layout.txt`` whose body is the HTML body with its tags turned into plain-text layout, so
  both parts always say the same;
- SMS and webhook: the ``sms`` text (the webhook one also carries the e-mail subject).

Failed-payment variants per reason are ``{% if reason == … %}`` branches in one template,
with the generic decline as the ``else`` for every other reason.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import yaml

from reclaim.adapters.templates.compiled import CompiledTemplate, digest, inline_html
from reclaim.adapters.templates.engines import HTML_LAYOUT, TEXT_LAYOUT, read_data
from reclaim.adapters.templates.formatting import TEMPLATE_LOCALES
from reclaim.adapters.templates.inlining import JINJA_TAG
from reclaim.domain.messages import Channel

_PARTS = ("subject", "preheader", "heading", "body", "cta", "sms")
_BLOCK_END = re.compile(r"</(?:p|h[1-6]|div|ul|ol|table)>", re.I)
_ITEM = re.compile(r"<li\b[^>]*>", re.I)
_BREAK = re.compile(r"<br\s*/?>|</li>\s*", re.I)
_ANY_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_ENTITY = re.compile(r"&[a-zA-Z#][a-zA-Z0-9]*;")


@dataclass(frozen=True, slots=True)
class Defaults:
    templates: Mapping[tuple[str, str, Channel], CompiledTemplate]  # (key, locale, channel)
    labels: Mapping[str, Mapping[str, str]]  # locale -> layout words
    keys: tuple[str, ...]


def text_body(html: str) -> str:
    """An HTML body's plain-text version: paragraphs as blank-line blocks, list items as "- "."""
    tags: list[str] = []

    def park(match: re.Match[str]) -> str:
        tags.append(match.group(0))
        return f"\x00{len(tags) - 1}\x00"

    text = JINJA_TAG.sub(park, html)
    text = _ITEM.sub("- ", text)
    text = _BREAK.sub("\n", text)
    text = _BLOCK_END.sub("\n\n", text)
    text = _ANY_TAG.sub("", text)
    if _ENTITY.search(text):
        raise ValueError(f"default template body uses an HTML entity: {_ENTITY.search(text)}")
    return re.sub("\x00(\\d+)\x00", lambda m: tags[int(m.group(1))], text)


def _child(layout: str, prelude: str, parts: Mapping[str, str], body: str) -> str:
    return (
        f'{{% extends "{layout}" %}}\n{prelude}\n'
        f"{{% block preheader %}}{parts['preheader']}{{% endblock %}}\n"
        f"{{% block heading %}}{parts['heading']}{{% endblock %}}\n"
        f"{{% block content %}}\n{body}\n{{% endblock %}}\n"
        f"{{% block cta_label %}}{parts['cta']}{{% endblock %}}\n"
    )


def _load_locale(
    locale: str,
) -> tuple[dict[str, str], dict[tuple[str, str, Channel], CompiledTemplate]]:
    data = yaml.safe_load(read_data(f"{locale}.yaml"))
    prelude: str = data["prelude"]
    compiled: dict[tuple[str, str, Channel], CompiledTemplate] = {}
    for key, parts in data["templates"].items():
        missing = [name for name in _PARTS if not isinstance(parts.get(name), str)]
        if missing:
            raise ValueError(f"{locale}.yaml: {key} lacks {', '.join(missing)}")
        subject = f"{prelude}\n{parts['subject']}"
        sms = f"{prelude}\n{parts['sms']}"
        html = _child(HTML_LAYOUT, prelude, parts, parts["body"])
        text = _child(TEXT_LAYOUT, prelude, parts, text_body(parts["body"]))
        source_digest = digest(key=key, locale=locale, parts=parts, prelude=prelude)
        compiled[(key, locale, Channel.EMAIL)] = CompiledTemplate(
            key, locale, Channel.EMAIL, subject, inline_html(html), text, source_digest
        )
        compiled[(key, locale, Channel.SMS)] = CompiledTemplate(
            key, locale, Channel.SMS, "", None, sms, source_digest
        )
        compiled[(key, locale, Channel.WEBHOOK)] = CompiledTemplate(
            key, locale, Channel.WEBHOOK, subject, None, sms, source_digest
        )
    return {str(k): str(v) for k, v in data["labels"].items()}, compiled


def _build() -> Defaults:
    templates: dict[tuple[str, str, Channel], CompiledTemplate] = {}
    labels: dict[str, Mapping[str, str]] = {}
    keys: dict[str, None] = {}
    for locale in TEMPLATE_LOCALES:
        words, compiled = _load_locale(locale)
        labels[locale] = MappingProxyType(words)
        templates.update(compiled)
        keys.update(dict.fromkeys(key for key, _, _ in compiled))
    for locale in TEMPLATE_LOCALES:
        mine = {key for key, loc, _ in templates if loc == locale}
        if mine != set(keys):
            raise ValueError(f"{locale}.yaml differs in keys: {sorted(mine ^ set(keys))}")
    return Defaults(MappingProxyType(templates), MappingProxyType(labels), tuple(keys))


_lock = threading.Lock()
_defaults: Defaults | None = None


def defaults() -> Defaults:
    """All default templates, loaded and compiled (CSS inlined) on first use."""
    global _defaults  # noqa: PLW0603 - a lazily built process-wide cache
    if _defaults is None:
        with _lock:
            if _defaults is None:
                _defaults = _build()
    return _defaults


def _reset() -> None:
    """Forget the loaded defaults (tests that count how often they are compiled)."""
    global _defaults  # noqa: PLW0603
    with _lock:
        _defaults = None
