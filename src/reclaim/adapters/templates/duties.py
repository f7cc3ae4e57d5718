"""The sender's duties, checked when a store's own e-mail template is saved: rendered for the
sample cart, its HTML must show a visible unsubscribe link and the store's postal address,
and its text part both, as a reader sees them (CAN-SPAM 15 U.S.C. 7704(a)(3) and (a)(5), the
ePrivacy Directive art. 13, the E-Commerce Directive art. 6).

What the shared layout adds counts: a template that extends ``layout.html`` gets its footer
(the address and the link). What a template hides does not: a link or an address inside an
HTML comment, a ``display: none`` or ``visibility: hidden`` element, a ``hidden`` element,
the ``<head>``, or a branch that never renders. The List-Unsubscribe headers are not the
template's: every marketing email gets both (``adapters/channels/mime.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

from reclaim.adapters.templates.compiled import CompiledTemplate
from reclaim.adapters.templates.limits import SAVE_BUDGET
from reclaim.adapters.templates.renderer import _render_parts
from reclaim.domain.messages import Channel, MessageContext
from reclaim.errors import InvalidInput

_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
_UNSEEN = frozenset({"head", "title", "style", "script", "template", "noscript"})
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden"
    r"|max-height\s*:\s*0(?![.\d])|font-size\s*:\s*0(?![.\d])",
    re.I,
)


class _Visible(HTMLParser):
    """The text a reader sees, and whether a visible link with words leads to ``url``."""

    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.url = url
        self.text: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # open elements: (tag, hidden)
        self.link_words: list[str] | None = None  # inside a visible link to ``url``
        self.linked = False

    @property
    def hidden(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        found = dict(attrs)
        hidden = (
            self.hidden
            or tag in _UNSEEN
            or "hidden" in found
            or bool(_HIDDEN_STYLE.search(found.get("style") or ""))
        )
        self.stack.append((tag, hidden))
        if tag == "a" and not hidden and (found.get("href") or "").strip() == self.url:
            self.link_words = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.link_words is not None:
            self.linked = self.linked or bool("".join(self.link_words).strip())
            self.link_words = None
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        self.text.append(data)
        if self.link_words is not None:
            self.link_words.append(data)


def _flat(text: str) -> str:
    return " ".join(text.split())


def check_duties(compiled: CompiledTemplate | Mapping[str, Any], context: MessageContext) -> None:
    """Refuse an e-mail template that, rendered for ``context`` (the save-time sample), shows
    no unsubscribe link or no postal address in its HTML or its text part: InvalidInput
    naming the part. A template that cannot render for the sample is left to the checks that
    ran before (it must mention both to compile at all)."""
    if not isinstance(compiled, CompiledTemplate):
        compiled = CompiledTemplate.from_json(compiled)
    if compiled.channel is not Channel.EMAIL or compiled.html is None:
        return
    try:
        rendered = _render_parts(compiled, Channel.EMAIL, context, SAVE_BUDGET)
    except InvalidInput:
        return
    url, address = context.unsubscribe_url, _flat(context.store.postal_address)
    page = _Visible(url)
    page.feed(rendered.html or "")
    page.close()
    law = "every marketing e-mail must show it, by law"
    if not page.linked:
        raise InvalidInput(
            f'html: shows no unsubscribe link a reader can see (<a href="{{{{ unsubscribe_url '
            f'}}}}">…</a>, or extend "layout.html", whose footer has one); {law}',
            field="html",
        )
    if address and address not in _flat("".join(page.text)):
        raise InvalidInput(
            "html: does not show the store's postal address where a reader can see it "
            f'({{{{ store.postal_address }}}}, or extend "layout.html"); {law}',
            field="html",
        )
    if url not in rendered.text:
        raise InvalidInput(
            f"text: has no unsubscribe link ({{{{ unsubscribe_url }}}}); {law}", field="text"
        )
    if address and address not in _flat(rendered.text):
        raise InvalidInput(
            f"text: does not show the store's postal address ({{{{ store.postal_address }}}}); "
            f"{law}",
            field="text",
        )
