"""Message templates (SPEC S4): a Jinja2 sandbox for merchants' templates, Babel formatting in
the customer's locale and zone, CSS inlined once at save time, and default templates in the
twelve languages of ``formatting.TEMPLATE_LOCALES`` (``data/<locale>.yaml``).

The lead's entry points: :class:`TemplateRenderer` (``render``, ``keys``, ``locales``),
:func:`compile_template` and :class:`CompiledTemplate` (stored as JSON).
"""

from reclaim.adapters.templates.compiled import CompiledTemplate, compile_template
from reclaim.adapters.templates.renderer import TemplateRenderer

__all__ = ["CompiledTemplate", "TemplateRenderer", "compile_template"]
