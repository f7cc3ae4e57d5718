"""The Jinja2 sandbox merchants' templates run in.

On top of :class:`jinja2.sandbox.ImmutableSandboxedEnvironment` (no internals, no mutation):

- any attribute or key starting with ``_`` raises :class:`~jinja2.exceptions.SecurityError`
  (Jinja's default only hides them behind an undefined that prints as nothing);
- only whitelisted methods may be called (``'x'.upper()`` yes, ``(1).to_bytes(10**9)`` no),
  besides macros, blocks and the functions registered here;
- no globals but the formatting helpers and a capped ``range``: no ``cycler``, ``joiner``,
  ``namespace``, ``lipsum``, ``dict``, and filters that could leak or mark data safe
  (``attr``, ``pprint``, ``safe``, ``urlize``, ``random``) are left out;
- size and work limits of :mod:`.limits` on operators, ``~``, filters, calls, loops and all
  produced text; recursive ``for`` loops are refused at compile time;
- a wall-clock deadline per rendered part, read wherever work is counted and at every loop
  iteration; what a filter, a list method, a comparison or an ``is in`` test is about to walk
  (a list, a range, a dict) counts as one step per item before it runs, so no single
  operation can run long between two looks at the clock.

Undefined names render empty (:class:`~jinja2.ChainableUndefined`), as does ``None``.

The rooms around it: :mod:`.calls` (which methods and functions templates may call),
:mod:`.counting` (what a walk over a value costs), :mod:`.codegen` (the accounting written
into compiled templates) and :mod:`.filters` (Jinja's filters and tests, guarded).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import ChainableUndefined, pass_context
from jinja2.exceptions import SecurityError
from jinja2.loaders import BaseLoader
from jinja2.runtime import BlockReference, Context, Macro, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from reclaim.adapters.templates import limits
from reclaim.adapters.templates.calls import (
    _ALLOWED_MARK,
    _check_method,
    safe_range,
    template_callable,
)
from reclaim.adapters.templates.codegen import _LimitedCodeGenerator
from reclaim.adapters.templates.counting import _SIMPLE, _count_items
from reclaim.adapters.templates.filters import _filters, _tests
from reclaim.adapters.templates.limits import (
    MAX_DEPTH,
    MAX_INT_BITS,
    MAX_VALUE,
    RenderLimit,
    current,
    measure,
    too_large,
)


@pass_context
def _finalize(context: Context, value: Any) -> Any:
    """Every ``{{ … }}`` passes here: ``None`` prints as nothing, the size is charged."""
    if value is None:
        return ""
    current().charge(measure(value, printing=True))
    return value


class TemplateSandbox(ImmutableSandboxedEnvironment):
    """The environment for merchant-editable templates (one for HTML, one for text)."""

    code_generator_class = _LimitedCodeGenerator
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def __init__(
        self,
        *,
        autoescape: bool,
        loader: BaseLoader | None,
        helpers: Mapping[str, Callable[..., Any]],
    ) -> None:
        super().__init__(
            autoescape=autoescape,
            loader=loader,
            undefined=ChainableUndefined,
            finalize=_finalize,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
            cache_size=64,
        )
        self.globals.clear()
        self.filters = _filters()
        self.tests = _tests()
        for name, func in helpers.items():
            template_callable(func)
            self.filters[name] = func
            self.globals[name] = func
        self.globals["range"] = safe_range

    # -- attribute access ---------------------------------------------------------------

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(attribute, str) and attribute.startswith("_"):
            raise SecurityError(f"access to attribute {attribute!r} is not allowed in templates")
        # The context is plain dicts: ``item.name`` is the key's value, found at once (Jinja
        # tries the attribute first and falls back to the key through an AttributeError,
        # which is most of a lookup's cost). A key named like a dict method (``labels.items``)
        # is the key's value, as a template author means it.
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(argument, str) and argument.startswith("_"):
            raise SecurityError(f"access to item {argument!r} is not allowed in templates")
        return super().getitem(obj, argument)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        raise SecurityError(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} is not allowed"
        )

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        sandboxed = super().wrap_str_format(value)
        if sandboxed is None:
            return None
        fmt: str = value.__self__
        is_map = value.__name__ == "format_map"

        def checked(*args: Any, **kwargs: Any) -> str:
            if is_map and len(args) == 1 and isinstance(args[0], Mapping):
                limits.check_str_format(fmt, (), args[0])
            else:
                limits.check_str_format(fmt, args, kwargs)
            return sandboxed(*args, **kwargs)

        template_callable(checked)
        return checked

    # -- operators, calls, loops, concatenation -------------------------------------------

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        state = current()
        if operator == "*":
            limits.check_repeat(left, right)
            limits.check_repeat(right, left)
            if isinstance(left, int) and isinstance(right, int):
                limits.check_int_bits(left.bit_length() + right.bit_length())
        elif operator == "**":
            limits.check_power(left, right)
        elif operator == "%" and isinstance(left, str):
            limits.check_printf(left, right)
        elif (
            operator == "+"
            and isinstance(left, list | tuple | str)
            and isinstance(right, list | tuple | str)
            and len(left) + len(right) > MAX_VALUE
        ):
            raise too_large(MAX_VALUE, "characters or items", "+")
        result = self.binop_table[operator](left, right)
        if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
            raise too_large(MAX_INT_BITS, "bits", "integer arithmetic")
        if isinstance(result, str | list | tuple):
            state.charge(len(result))
        return result

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        state = current()
        state.step()
        if not (
            isinstance(__obj, Macro | BlockReference | Undefined)
            or getattr(__obj, _ALLOWED_MARK, False)
        ):
            args = _check_method(__obj, args)
        if state.depth >= MAX_DEPTH:
            raise RenderLimit(f"template nests calls deeper than {MAX_DEPTH}")
        state.depth += 1
        try:
            result = __context.call(__obj, *args, **kwargs)
        finally:
            state.depth -= 1
        if isinstance(result, str | list | tuple):
            if len(result) > MAX_VALUE:
                raise too_large(MAX_VALUE, "characters or items", "call result")
            state.charge(len(result))
        return result

    def guard_iter(self, iterable: Any) -> Any:
        return limits.guard_iter(iterable)

    def guard_operand(self, value: Any) -> Any:
        if not isinstance(value, _SIMPLE):
            _count_items(current(), value)
        return value

    def guard_concat(self, join: Callable[[Any], str], parts: tuple[Any, ...]) -> str:
        state = current()
        size = sum(measure(part, printing=True) for part in parts)
        if size > MAX_VALUE:
            raise too_large(MAX_VALUE, "characters", "~")
        state.charge(size)
        return join(parts)

    def charge_literal(self, size: int) -> None:
        current().charge(size)


__all__ = ["TemplateSandbox", "safe_range", "template_callable"]
