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
"""

from __future__ import annotations

import functools
from collections.abc import Callable, ItemsView, Iterator, KeysView, Mapping, ValuesView
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from jinja2 import ChainableUndefined, nodes, pass_context
from jinja2 import filters as jinja_filters
from jinja2 import tests as jinja_tests
from jinja2.compiler import CodeGenerator, Frame, operators, optimizeconst
from jinja2.exceptions import SecurityError
from jinja2.loaders import BaseLoader
from jinja2.runtime import BlockReference, Context, LoopContext, Macro, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from reclaim.adapters.templates import limits
from reclaim.adapters.templates.limits import (
    MAX_BATCH,
    MAX_DEPTH,
    MAX_INT_BITS,
    MAX_RANGE,
    MAX_VALUE,
    RenderLimit,
    RenderState,
    current,
    measure,
    too_large,
)
from reclaim.errors import InvalidInput

# Methods templates may call, by the type of the object they are bound to.
_STR_METHODS = frozenset(
    [
        "capitalize",
        "casefold",
        "center",
        "count",
        "endswith",
        "find",
        "index",
        "isalnum",
        "isalpha",
        "isascii",
        "isdecimal",
        "isdigit",
        "islower",
        "isnumeric",
        "isspace",
        "istitle",
        "isupper",
        "join",
        "ljust",
        "lower",
        "lstrip",
        "partition",
        "removeprefix",
        "removesuffix",
        "replace",
        "rfind",
        "rindex",
        "rjust",
        "rpartition",
        "rsplit",
        "rstrip",
        "split",
        "splitlines",
        "startswith",
        "strip",
        "swapcase",
        "title",
        "upper",
        "zfill",
        "striptags",
        "unescape",
    ]
)
_SAFE_METHODS: tuple[tuple[type | tuple[type, ...], frozenset[str]], ...] = (
    (str, _STR_METHODS),
    ((list, tuple), frozenset({"count", "index"})),
    ((dict, MappingProxyType), frozenset({"get", "items", "keys", "values"})),
    ((datetime, date), frozenset({"isoformat", "weekday", "isoweekday"})),
    (LoopContext, frozenset({"cycle", "changed"})),
)

_ALLOWED_MARK = "_reclaim_template_callable"


def template_callable(func: Callable[..., Any]) -> Callable[..., Any]:
    """Mark ``func`` as callable from templates (a global registered on purpose)."""
    setattr(func, _ALLOWED_MARK, True)
    return func


_CONTAINERS = (list, tuple, dict, MappingProxyType, set, frozenset)
_VIEWS = (KeysView, ValuesView, ItemsView)
_SIMPLE = (str, int, float, Decimal, date, type(None), Undefined)


def _count_items(state: RenderState, value: object) -> None:
    """``value`` is about to be walked item by item (sorted, searched, compared, listed): one
    step per item, counted before the walk (so the clock is read too), and a container nested
    beyond :data:`MAX_VALUE` is refused rather than walked."""
    if isinstance(value, _CONTAINERS):
        state.step(len(value))
        measure(value)
    elif isinstance(value, range):
        state.step(len(value))
    elif isinstance(value, _VIEWS):
        state.step(len(value))
        mapping = getattr(value, "mapping", None)
        if mapping is not None:
            measure(mapping)


def _counted(state: RenderState, value: Any) -> Any:
    """A filter's argument: containers counted now, a lazy iterator (another filter's
    ``map``, ``select``, ``reverse``…) charged a step per item as it is taken."""
    if isinstance(value, _SIMPLE):
        return value
    if isinstance(value, Iterator) and not isinstance(value, LoopContext):
        return limits.charged(value, state)
    _count_items(state, value)
    return value


def _check_method(obj: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Refuse a method call that is not whitelisted or would build too large a value."""
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", None)
    if owner is None or isinstance(owner, type) or not isinstance(name, str):
        raise SecurityError(f"calling {type(obj).__name__} objects is not allowed in templates")
    for types, names in _SAFE_METHODS:
        if isinstance(owner, types) and name in names:
            break
    else:
        raise SecurityError(f"calling {type(owner).__name__}.{name}() is not allowed in templates")
    if isinstance(owner, str):
        if name in ("center", "ljust", "rjust", "zfill") and args:
            limits.check_width(args[0], name)
        elif name == "replace" and len(args) >= 2:
            limits.check_replace(
                owner, str(args[0]), str(args[1]), args[2] if len(args) > 2 else None
            )
        elif name == "join" and args:
            parts = list(args[0])
            current().step(len(parts))
            limits.check_join(parts, owner)
            args = (parts, *args[1:])
    elif isinstance(owner, list | tuple):  # count() and index() compare every item
        state = current()
        _count_items(state, owner)
        for arg in args:
            _count_items(state, arg)
    return args


@template_callable
def safe_range(*args: int) -> range:
    """``range`` with at most :data:`MAX_RANGE` items."""
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise too_large(MAX_RANGE, "items", f"range of {len(result)}")
    return result


class _LimitedCodeGenerator(CodeGenerator):
    """Emits the accounting calls the sandbox alone has no hooks for."""

    _loop_iterables: set[int] | None = None

    def visit(self, node: nodes.Node, *args: Any, **kwargs: Any) -> Any:
        # Jinja forbids custom node types, so the iterable of each for loop is recognised by
        # identity and wrapped as it is written out.
        if self._loop_iterables and id(node) in self._loop_iterables:
            self.write("environment.guard_iter(")
            super().visit(node, *args, **kwargs)
            self.write(")")
            return None
        return super().visit(node, *args, **kwargs)

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        if node.recursive:
            self.fail("recursive loops are not allowed in templates", node.lineno)
        if self._loop_iterables is None:
            self._loop_iterables = set()
        self._loop_iterables.add(id(node.iter))
        super().visit_For(node, frame)

    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:
        # Literal template text is not finalized; charge it here so that a loop repeating a
        # large literal into a {% set %} block is stopped like any other big value.
        literal = sum(
            len(child.data) for child in node.nodes if isinstance(child, nodes.TemplateData)
        )
        if literal and not (frame.require_output_check and self.has_known_extends):
            self.writeline(f"environment.charge_literal({literal})")
        super().visit_Output(node, frame)

    @optimizeconst
    def visit_Compare(self, node: nodes.Compare, frame: Frame) -> None:
        # ``x in xs``, ``xs == ys``: Python compares item by item (and list items deeply) in one
        # step the sandbox cannot interrupt, so each operand is counted first.
        self.write("(")
        self._compare_operand(node.expr, frame)
        for operand in node.ops:
            self.write(f" {operators[operand.op]} ")
            self._compare_operand(operand.expr, frame)
        self.write(")")

    def _compare_operand(self, expr: nodes.Expr, frame: Frame) -> None:
        if isinstance(expr, nodes.Const):
            self.visit(expr, frame)
            return
        self.write("environment.guard_operand(")
        self.visit(expr, frame)
        self.write(")")

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            func_name = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            func_name = "markup_join"
        else:
            func_name = "str_join"
        self.write(f"environment.guard_concat({func_name}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


def _guarded_filter(func: Callable[..., Any], check: Callable[..., Any] | None = None) -> Any:
    """Wrap a filter: container arguments are measured, ``check`` runs, the result is charged."""

    @functools.wraps(func)  # keeps jinja_pass_arg, so Jinja still passes context / env
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        state = current()  # outside a render (constant folding at compile time): not folded
        # What the filter will walk is counted before it runs: one |sort of a 10,000-item list
        # costs 10,000 steps, whatever its own (uninterruptible) time.
        args = tuple(_counted(state, value) for value in args)
        kwargs = {name: _counted(state, value) for name, value in kwargs.items()}
        if check is not None:
            check(*args, **kwargs)
        result = func(*args, **kwargs)
        if isinstance(result, str | list | tuple | dict):
            state.charge(len(result))
        return result

    return wrapper


def _check_printable(value: object) -> None:
    measure(value, printing=True)


def _check_center(value: object, width: int = 80) -> None:
    limits.check_width(width, "center")


def _check_indent(
    s: object, width: int | str = 4, first: bool = False, blank: bool = False
) -> None:
    text = str(s)
    indent = len(width) if isinstance(width, str) else width
    if isinstance(indent, int) and (text.count("\n") + 1) * indent + len(text) > MAX_VALUE:
        raise too_large(MAX_VALUE, "characters", "indent")


def _check_replace(
    eval_ctx: object, s: object, old: object, new: object, count: int | None = None
) -> None:
    limits.check_replace(str(s), str(old), str(new), count)


def _check_wordwrap(
    environment: object,
    s: object,
    width: int = 79,
    break_long_words: bool = True,
    wrapstring: str | None = None,
    break_on_hyphens: bool = True,
) -> None:
    text = str(s)
    if not isinstance(width, int) or width < 1:
        raise InvalidInput("template wordwrap width must be a positive number")
    lines = len(text) // width + text.count("\n") + 1
    if len(text) + lines * len(wrapstring or "\n") > MAX_VALUE:
        raise too_large(MAX_VALUE, "characters", "wordwrap")


def _check_batch(value: object, size: int, fill_with: object = None) -> None:
    if not isinstance(size, int) or not 1 <= size <= MAX_BATCH:
        raise too_large(MAX_BATCH, "items", f"batch/slice of {size}")


def _check_sum(
    environment: object, iterable: object, attribute: object = None, start: object = 0
) -> None:
    if isinstance(start, bool) or not isinstance(start, int | float | Decimal):
        raise InvalidInput("template sum() only adds numbers")


@pass_context
def _format_filter(context: Context, value: object, *args: Any, **kwargs: Any) -> str:
    """``'%s'|format(x)`` with width and size limits (Jinja's does ``value % args`` unchecked)."""
    state = current()
    if args and kwargs:
        raise InvalidInput("template format() takes positional or keyword arguments, not both")
    fmt = value if isinstance(value, str) else str(value)
    params: object = kwargs or args
    limits.check_printf(fmt, params)
    result: str = fmt % params
    state.charge(len(result))
    return result


@pass_context
def _join_filter(
    context: Context, value: Any, d: str = "", attribute: str | int | None = None
) -> str:
    parts = list(value)
    state = current()
    state.step(len(parts))
    if attribute is None:
        limits.check_join(parts, d)
    result: str = jinja_filters.sync_do_join(context.eval_ctx, parts, d, attribute)
    if len(result) > MAX_VALUE:
        raise too_large(MAX_VALUE, "characters", "join")
    state.charge(len(result))
    return result


_PLAIN_FILTERS = [
    "abs",
    "capitalize",
    "count",
    "d",
    "default",
    "dictsort",
    "e",
    "escape",
    "filesizeformat",
    "first",
    "float",
    "forceescape",
    "groupby",
    "int",
    "items",
    "last",
    "length",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "reject",
    "rejectattr",
    "reverse",
    "round",
    "select",
    "selectattr",
    "sort",
    "striptags",
    "title",
    "tojson",
    "trim",
    "truncate",
    "unique",
    "upper",
    "urlencode",
    "wordcount",
    "xmlattr",
]


# Tests that compare their value with an argument (``x is in xs``, ``xs is eq(ys)``).
_COMPARING_TESTS = [
    "in",
    "==",
    "eq",
    "equalto",
    "!=",
    "ne",
    ">",
    "gt",
    "greaterthan",
    ">=",
    "ge",
    "<",
    "lt",
    "lessthan",
    "<=",
    "le",
]


def _guarded_test(func: Callable[..., Any]) -> Any:
    """Wrap a comparing test: a step per use, and its operands counted like a filter's."""

    @functools.wraps(func)
    def wrapper(*args: Any) -> Any:
        state = current()  # outside a render (constant folding at compile time): not folded
        state.step()
        for value in args:
            _count_items(state, value)
        return func(*args)

    return wrapper


def _tests() -> dict[str, Any]:
    table: dict[str, Any] = dict(jinja_tests.TESTS)
    for name in _COMPARING_TESTS:
        table[name] = _guarded_test(table[name])
    return table


def _filters() -> dict[str, Any]:
    table: dict[str, Any] = {
        name: _guarded_filter(jinja_filters.FILTERS[name]) for name in _PLAIN_FILTERS
    }
    table.update(
        string=_guarded_filter(jinja_filters.FILTERS["string"], _check_printable),
        center=_guarded_filter(jinja_filters.FILTERS["center"], _check_center),
        indent=_guarded_filter(jinja_filters.FILTERS["indent"], _check_indent),
        replace=_guarded_filter(jinja_filters.FILTERS["replace"], _check_replace),
        wordwrap=_guarded_filter(jinja_filters.FILTERS["wordwrap"], _check_wordwrap),
        batch=_guarded_filter(jinja_filters.FILTERS["batch"], _check_batch),
        slice=_guarded_filter(jinja_filters.sync_do_slice, _check_batch),
        sum=_guarded_filter(jinja_filters.sync_do_sum, _check_sum),
        format=_format_filter,
        join=_join_filter,
    )
    return table


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
