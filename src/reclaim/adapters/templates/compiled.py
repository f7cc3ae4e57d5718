"""A template as it is stored: validated, CSS already inlined, plain data.

:func:`compile_template` is what the console calls when a merchant saves a template: it refuses
syntax errors with the field and line, unknown filters, parents other than the shipped layouts,
and e-mails that would go out without the unsubscribe link or the postal address; then it
inlines the CSS once. The :class:`CompiledTemplate` it returns round-trips through JSON for the
database.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import TemplateSyntaxError

from reclaim.adapters.templates import inlining
from reclaim.adapters.templates.engines import HTML_LAYOUT, TEXT_LAYOUT, engines
from reclaim.adapters.templates.formatting import format_locale, locale_tag
from reclaim.adapters.templates.limits import MAX_SOURCE
from reclaim.adapters.templates.sandbox import TemplateSandbox
from reclaim.domain.messages import Channel
from reclaim.errors import InvalidInput

FORMAT_VERSION = 1
_KEY = re.compile(r"[a-z0-9_]{1,40}/[a-z0-9_.\-]{1,60}")
_LOCALE = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,3}")


@dataclass(frozen=True, slots=True)
class CompiledTemplate:
    """One template for one key, locale and channel.

    ``html`` is ``None`` for SMS and webhook templates and already has its CSS inlined;
    ``subject`` is ``""`` for SMS. ``source_digest`` is the SHA-256 of what the merchant wrote
    (before inlining), to tell whether a stored template changed.
    """

    key: str
    locale: str
    channel: Channel
    subject: str
    html: str | None
    text: str
    source_digest: str

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT_VERSION,
                "key": self.key,
                "locale": self.locale,
                "channel": self.channel.value,
                "subject": self.subject,
                "html": self.html,
                "text": self.text,
                "source_digest": self.source_digest,
            },
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, data: str | bytes | Mapping[str, Any]) -> CompiledTemplate:
        """Read what :meth:`to_json` wrote (text or an already decoded mapping)."""
        try:
            raw = json.loads(data) if isinstance(data, str | bytes) else dict(data)
        except (ValueError, TypeError):
            raise InvalidInput("stored template is not valid JSON", field="template") from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT_VERSION:
            raise InvalidInput("stored template has an unknown format", field="template")
        for name in ("key", "locale", "channel", "subject", "text", "source_digest"):
            if not isinstance(raw.get(name), str):
                raise InvalidInput(f"stored template lacks {name}", field=name)
        if raw.get("html") is not None and not isinstance(raw["html"], str):
            raise InvalidInput("stored template html must be text", field="html")
        try:
            channel = Channel(raw["channel"])
        except ValueError:
            raise InvalidInput("stored template has an unknown channel", field="channel") from None
        return cls(
            key=raw["key"],
            locale=raw["locale"],
            channel=channel,
            subject=raw["subject"],
            html=raw.get("html"),
            text=raw["text"],
            source_digest=raw["source_digest"],
        )


def normalise_locale(tag: str) -> str:
    """``de_at`` → ``de-AT``; refuses tags Babel does not know (InvalidInput, field locale)."""
    if not isinstance(tag, str) or not _LOCALE.fullmatch(tag.strip()):
        raise InvalidInput("locale must be a language tag such as de or de-AT", field="locale")
    locale = format_locale(tag)
    if locale.language != re.split(r"[-_]", tag.strip())[0].lower():
        raise InvalidInput(f"locale {tag!r} is not a known language", field="locale")
    return locale_tag(locale)


def digest(**parts: object) -> str:
    """SHA-256 (hex) of ``parts`` as canonical JSON."""
    canonical = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _fail(field: str, message: str, line: int | None = None) -> InvalidInput:
    where = f"line {line}: " if line else ""
    return InvalidInput(f"{field}: {where}{message}", field=field)


def check_source(
    env: TemplateSandbox, field: str, source: object, parents: frozenset[str]
) -> nodes.Template:
    """Parse and compile ``source``; refuse what would only fail (or misbehave) at send time."""
    if not isinstance(source, str):
        raise _fail(field, "must be text")
    if len(source) > MAX_SOURCE:
        raise _fail(field, f"is longer than {MAX_SOURCE} characters")
    try:
        tree = env.parse(source)
        # Jinja checks filters inside {% if %} only when they run; check them all now.
        for used in tree.find_all((nodes.Filter, nodes.Test)):
            table = env.filters if isinstance(used, nodes.Filter) else env.tests
            if used.name not in table:
                kind = "filter" if isinstance(used, nodes.Filter) else "test"
                raise _fail(field, f"no {kind} named {used.name!r}", used.lineno)
        for ref in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
            target = getattr(ref, "template", None)
            if not (isinstance(target, nodes.Const) and target.value in parents):
                allowed = ", ".join(sorted(parents)) or "nothing"
                raise _fail(field, f"may only extend or include {allowed}", ref.lineno)
        env.compile(tree)
    except TemplateSyntaxError as exc:
        raise _fail(field, exc.message or "syntax error", exc.lineno) from None
    except RecursionError:
        raise _fail(field, "nests too deeply") from None
    return tree


def _mentions(tree: nodes.Template, parent: str) -> bool:
    """Whether the template carries the unsubscribe link and postal address (or its layout does)."""
    if any(
        isinstance(n.template, nodes.Const) and n.template.value == parent
        for n in tree.find_all(nodes.Extends)
    ):
        return True
    names = {n.name for n in tree.find_all(nodes.Name)}
    postal = any(
        isinstance(n.node, nodes.Name) and n.node.name == "store" and n.attr == "postal_address"
        for n in tree.find_all(nodes.Getattr)
    )
    return "unsubscribe_url" in names and postal


def compile_template(
    *, key: str, locale: str, channel: Channel, subject: str, html: str | None, text: str
) -> CompiledTemplate:
    """Validate a merchant's template and inline its CSS once.

    Raises :class:`InvalidInput` whose ``field`` is ``subject``, ``html`` or ``text`` (message
    "html: line 3: unexpected '}'"), or ``key`` / ``locale`` / ``channel``. E-mail needs all
    three parts; its HTML and text must extend the default layouts (``{% extends
    "layout.html" %}`` / ``"layout.txt"``) or show ``{{ unsubscribe_url }}`` and
    ``{{ store.postal_address }}`` themselves. SMS and webhook templates have only ``text``.
    """
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise InvalidInput(
            "key must look like kind/step, e.g. abandoned_checkout/reminder", field="key"
        )
    tag = normalise_locale(locale)
    try:
        channel = Channel(channel)
    except ValueError:
        raise InvalidInput(f"unknown channel {channel!r}", field="channel") from None
    env = engines()
    source_digest = digest(
        key=key, locale=tag, channel=channel.value, subject=subject, html=html, text=text
    )
    if channel is not Channel.EMAIL:
        if html is not None:
            raise _fail("html", f"{channel.value} templates have no HTML part")
        check_source(env.text, "subject", subject, frozenset())
        check_source(env.text, "text", text, frozenset())
        return CompiledTemplate(key, tag, channel, subject, None, text, source_digest)
    check_source(env.text, "subject", subject, frozenset())
    if not isinstance(html, str) or not html.strip():
        raise _fail("html", "an e-mail needs an HTML part")
    html_tree = check_source(env.html, "html", html, frozenset({HTML_LAYOUT}))
    text_tree = check_source(env.text, "text", text, frozenset({TEXT_LAYOUT}))
    for field, tree, parent in (("html", html_tree, HTML_LAYOUT), ("text", text_tree, TEXT_LAYOUT)):
        if not _mentions(tree, parent):
            raise _fail(
                field,
                f'must extend "{parent}" or show {{{{ unsubscribe_url }}}} and '
                "{{ store.postal_address }} (every e-mail needs both by law)",
            )
    inlined = inline_html(html)
    try:
        check_source(env.html, "html", inlined, frozenset({HTML_LAYOUT}))
    except InvalidInput as exc:
        raise _fail("html", f"CSS inlining broke the template ({exc})") from None
    return CompiledTemplate(key, tag, channel, subject, inlined, text, source_digest)


def inline_html(source: str) -> str:
    """Inline CSS into an HTML template: a child of the layout gets the layout's stylesheet."""
    extends_layout = re.search(r"\{%-?\s*extends\s+[\"']layout\.html[\"']", source) is not None
    return inlining.inline_css(source, extra_css=engines().layout_css if extends_layout else "")
