"""What merchants' templates may call: the whitelisted methods by the type they are bound to,
functions registered on purpose (:func:`template_callable`), and a capped ``range``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from jinja2.exceptions import SecurityError
from jinja2.runtime import LoopContext

from reclaim.adapters.templates import limits
from reclaim.adapters.templates.counting import _count_items
from reclaim.adapters.templates.limits import MAX_RANGE, current, too_large

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
