"""CSS inlining of a Jinja *source* (once, when a template is saved), with its tags protected.

``css_inline`` parses HTML, so it would mangle template syntax: ``{% if a < b %}`` becomes
``{% if a &lt; b %}``, a ``{% for %}`` between ``<tr>`` rows is moved out of the table (HTML
"foster parenting"), and ``title="{{ "x" }}"`` splits into attributes. So each Jinja tag is
first swapped for a placeholder the HTML parser keeps in place: an HTML comment where the tag
stands in text (comments stay put even inside tables), a bare token inside a start tag, an
attribute value, a comment or ``<title>``. After inlining the placeholders are swapped back and
every one must come back exactly once.

Known limit: a ``class`` attribute that a ``{% if %}`` adds conditionally gets its styles
inlined unconditionally, because the inliner sees the markup of every branch at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import css_inline

from reclaim.errors import InvalidInput

# A Jinja comment, expression or statement; strings inside tags may contain the closers.
_STRING = r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\""""
JINJA_TAG = re.compile(
    r"\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}"
    r"|\{#.*?#\}"
    rf"|\{{\{{(?:{_STRING}|[^'\"])*?\}}\}}"
    rf"|\{{%(?:{_STRING}|[^'\"])*?%\}}",
    re.S,
)
_STYLE = re.compile(r"<style\b[^>]*>(.*?)</style\s*>", re.S | re.I)
_RAW_TEXT = ("title", "textarea", "script", "style")

_TEXT, _TAG, _COMMENT, _RAW = range(4)


class _Scanner:
    """Tracks where in the HTML a position is (text, inside a tag, comment, raw text)."""

    def __init__(self) -> None:
        self.state = _TEXT
        self.quote = ""
        self.raw_name = ""
        self._tag_name = ""
        self._in_name = False
        self.last = ""  # the last character of the tag outside quotes: "=" before a value

    def feed(self, html: str) -> None:
        i = 0
        n = len(html)
        while i < n:
            ch = html[i]
            if self.state == _TEXT:
                if html.startswith("<!--", i):
                    self.state = _COMMENT
                    i += 4
                    continue
                if ch == "<" and i + 1 < n and (html[i + 1].isalpha() or html[i + 1] in "/!"):
                    self.state = _TAG
                    self.quote = ""
                    self._tag_name = ""
                    self._in_name = html[i + 1].isalpha()
                    self.last = ""
            elif self.state == _TAG:
                if self.quote:
                    if ch == self.quote:
                        self.quote = ""
                elif ch in "\"'":
                    self.quote = ch
                    self.last = ch
                elif ch == ">":
                    name = self._tag_name.lower()
                    self.state = _RAW if name in _RAW_TEXT else _TEXT
                    self.raw_name = name
                else:
                    if not ch.isspace():
                        self.last = ch
                    if self._in_name:
                        if ch.isalnum():
                            self._tag_name += ch
                        else:
                            self._in_name = False
            elif self.state == _COMMENT:
                if html.startswith("-->", i):
                    self.state = _TEXT
                    i += 3
                    continue
            elif html.startswith("</", i) and html[i + 2 : i + 2 + len(self.raw_name)].lower() == (
                self.raw_name
            ):
                self.state = _TAG
                self.quote = ""
                self._tag_name = ""
                self._in_name = False
            i += 1


def _nonce(source: str) -> str:
    nonce = "rcjt"
    while nonce in source:
        nonce += "q"
    return nonce


def protect(source: str) -> tuple[str, Callable[[str], str]]:
    """``source`` with Jinja tags replaced by placeholders, and the function that restores them.

    Raises :class:`InvalidInput` (field ``html``) for a Jinja tag inside ``<style>``: CSS is
    inlined once, so it cannot depend on values known only at send time.
    """
    nonce = _nonce(source)
    tags: list[str] = []
    scanner = _Scanner()
    out: list[str] = []
    position = 0
    for match in JINJA_TAG.finditer(source):
        scanner.feed(source[position : match.start()])
        index = len(tags)
        tags.append(match.group(0))
        token = f"{nonce}{index}z"
        if scanner.state == _TEXT:
            out.append(source[position : match.start()] + f"<!--{token}-->")
        else:
            if scanner.state == _RAW and scanner.raw_name == "style":
                line = source.count("\n", 0, match.start()) + 1
                raise InvalidInput(
                    f"html: line {line}: template tags inside <style> cannot be inlined; "
                    "use a style attribute instead",
                    field="html",
                )
            if scanner.state == _TAG and not scanner.quote and scanner.last != "=":
                # The inliner reorders attributes, so a tag between them would end up
                # guarding the wrong ones.
                line = source.count("\n", 0, match.start()) + 1
                raise InvalidInput(
                    f"html: line {line}: template tags between attributes cannot be kept in "
                    "place by CSS inlining; put them inside the attribute value, e.g. "
                    'class="{% if x %}a{% endif %}"',
                    field="html",
                )
            out.append(source[position : match.start()] + token)
        position = match.end()
    out.append(source[position:])
    pattern = re.compile(rf"<!--{nonce}(\d+)z-->|{nonce}(\d+)z")

    def restore(html: str) -> str:
        seen = [0] * len(tags)

        def put_back(found: re.Match[str]) -> str:
            index = int(found.group(1) or found.group(2))
            seen[index] += 1
            return tags[index]

        restored = pattern.sub(put_back, html)
        lost = [i for i, count in enumerate(seen) if count != 1]
        if lost:
            tag = tags[lost[0]]
            line = source[: source.find(tag)].count("\n") + 1
            raise InvalidInput(
                f"html: line {line}: CSS inlining could not keep {tag[:40]!r} in place; "
                "check that the HTML around it is well formed",
                field="html",
            )
        return restored

    return "".join(out), restore


def stylesheet(html: str) -> str:
    """The CSS of every ``<style>`` element in ``html``."""
    return "\n".join(_STYLE.findall(html))


def inline_css(source: str, *, extra_css: str = "") -> str:
    """Inline the CSS of ``source``'s ``<style>`` blocks (plus ``extra_css``) into ``style=``.

    A full document (with ``<html>``) keeps its ``@media`` rules in a ``<style>`` element for
    responsive layouts; a fragment (a child template's blocks) is inlined with ``extra_css``,
    the layout's stylesheet. Remote stylesheets are never fetched.
    """
    protected, restore = protect(source)
    try:
        if re.search(r"<html[\s>]", protected, re.I):
            inlined = css_inline.inline(
                protected,
                keep_at_rules=True,
                load_remote_stylesheets=False,
                extra_css=extra_css or None,
            )
        else:
            inlined = css_inline.inline_fragment(
                protected, extra_css, load_remote_stylesheets=False
            )
    except (ValueError, css_inline.InlineError) as exc:
        raise InvalidInput(f"html: CSS could not be inlined: {exc}", field="html") from None
    return restore(_drop_implied_tbody(protected, inlined))


_TBODY = re.compile(r"<tbody\b", re.I)
_TBODY_TAGS = re.compile(r"</?tbody>", re.I)


def _drop_implied_tbody(before: str, after: str) -> str:
    """Undo the ``<tbody>`` the HTML parser adds to tables written without one.

    Left in, it would land inside a ``{% for %}`` that repeats the rows and be opened once
    per row. Tables written with ``<tbody>`` keep theirs; a mix of both cannot be told apart.
    """
    written, parsed = len(_TBODY.findall(before)), len(_TBODY.findall(after))
    if parsed == written:
        return after
    if written == 0:
        return _TBODY_TAGS.sub("", after)
    raise InvalidInput(
        "html: write <tbody> in every table or in none, so CSS inlining keeps loops over rows "
        "intact",
        field="html",
    )
