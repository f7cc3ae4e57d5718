"""What walking a value costs in a template: one step per item of a container, range or view,
counted before the walk, and a lazy iterator charged as its items are taken.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, KeysView, ValuesView
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from jinja2.runtime import LoopContext, Undefined

from reclaim.adapters.templates import limits
from reclaim.adapters.templates.limits import RenderState, measure

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
