"""The two sandboxed environments (HTML with autoescape, text without) and their caches.

Built once per process, lazily: the shared layout is read from the package data and its CSS
inlined on first use. Compiled Jinja templates are cached by source text, so rendering the same
default or stored merchant template again costs no parsing, no inlining and no file I/O.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import DictLoader, Template

from reclaim.adapters.templates import inlining
from reclaim.adapters.templates.formatting import HELPERS
from reclaim.adapters.templates.sandbox import TemplateSandbox

HTML_LAYOUT = "layout.html"
TEXT_LAYOUT = "layout.txt"
_CACHED_TEMPLATES = 4096


def read_data(name: str) -> str:
    """A file of the package's ``data`` folder (default templates, layouts)."""
    return (resources.files(__package__) / "data" / name).read_text(encoding="utf-8")


@dataclass(frozen=True, slots=True)
class Engines:
    html: TemplateSandbox
    text: TemplateSandbox
    layout_css: str  # the layout's stylesheet, inlined into child templates' blocks
    html_template: Any  # (source: str) -> Template, cached
    text_template: Any

    @classmethod
    def build(cls) -> Engines:
        layout_source = read_data(HTML_LAYOUT)
        layout_html = inlining.inline_css(layout_source)
        html = TemplateSandbox(
            autoescape=True, loader=DictLoader({HTML_LAYOUT: layout_html}), helpers=HELPERS
        )
        text = TemplateSandbox(
            autoescape=False,
            loader=DictLoader({TEXT_LAYOUT: read_data(TEXT_LAYOUT)}),
            helpers=HELPERS,
        )
        return cls(
            html=html,
            text=text,
            layout_css=inlining.stylesheet(layout_source),
            html_template=lru_cache(maxsize=_CACHED_TEMPLATES)(html.from_string),
            text_template=lru_cache(maxsize=_CACHED_TEMPLATES)(text.from_string),
        )

    def template(self, source: str, *, html: bool) -> Template:
        found: Template = (self.html_template if html else self.text_template)(source)
        return found


_lock = threading.Lock()
_engines: Engines | None = None


def engines() -> Engines:
    """The process-wide environments, built on first use."""
    global _engines  # noqa: PLW0603 - a lazily built process-wide cache
    if _engines is None:
        with _lock:
            if _engines is None:
                _engines = Engines.build()
    return _engines


def _reset() -> None:
    """Forget the environments and caches (tests that count how often work is done)."""
    global _engines  # noqa: PLW0603
    with _lock:
        _engines = None
