"""Jinja's filters and tests as merchants' templates get them: only a whitelist of filters,
each wrapped so that what it walks is counted before it runs, its arguments checked against
the size limits and its result charged; comparing tests counted like filters.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from jinja2 import filters as jinja_filters
from jinja2 import pass_context
from jinja2 import tests as jinja_tests
from jinja2.runtime import Context

from reclaim.adapters.templates import limits
from reclaim.adapters.templates.counting import _count_items, _counted
from reclaim.adapters.templates.limits import MAX_BATCH, MAX_VALUE, current, measure, too_large
from reclaim.errors import InvalidInput


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
