"""What one render of a merchant-editable template may cost, and the accounting behind it.

Jinja's sandbox stops templates from reaching Python internals but not from building huge
values (``'a' * 10**8``) or looping for ever. Every operation that can make a value larger
than its inputs is checked *before* it runs against :data:`MAX_VALUE`; every loop iteration and
call costs a step, and so does every item a filter or a comparison walks (counted before it
runs, so one ``|sort`` of a huge list is refused instead of run); every piece of text a
template produces (also into ``{% set %}`` blocks and macro bodies that are never printed)
costs work. The same hooks read the clock: a render part may take :data:`MAX_SECONDS` of wall
time at most. A render that goes over any limit raises :class:`RenderLimit` (an
:class:`~reclaim.errors.InvalidInput`) with a message that starts "template builds a value
larger than …", "template runs more than …", "template produces more than …" or "template
took longer than …".

A :class:`Budget` holds the step, work and time limits: :data:`RUN_BUDGET` when a message is
sent, the much tighter :data:`SAVE_BUDGET` when a merchant saves a template and it is tried
on a sample cart.

The counters live in a :class:`RenderState` held in a context variable for the duration of
one render, so concurrent renders in several threads never share them. Outside a render (at
compile time, when Jinja tries to fold constant expressions) :func:`current` raises
:class:`NoRenderState`, which Jinja treats as "not a constant" and leaves for run time.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from time import perf_counter
from types import MappingProxyType
from typing import Any

from jinja2.runtime import Undefined

from reclaim.errors import InvalidInput

MAX_SOURCE = 256 * 1024  # characters of one template source
MAX_OUTPUT = 512 * 1024  # characters of one rendered part (subject, text or html)
MAX_VALUE = 256 * 1024  # characters of a string, items of a list, in one value
MAX_WORK = 8 * 1024 * 1024  # characters produced in all, printed or not, per part
MAX_STEPS = 100_000  # loop iterations plus calls per part
MAX_DEPTH = 40  # nested macro / block / method calls
MAX_RANGE = 10_000  # items of range()
MAX_INT_BITS = 256  # 77 decimal digits: far beyond any amount, far below a CPU bomb
MAX_FORMAT_WIDTH = 1000  # width or precision in a %-format or str.format field
MAX_BATCH = 10_000  # batch() / slice() sizes
MAX_SECONDS = 1.0  # wall-clock time of one rendered part, when a message is sent

# When a template is saved it is rendered once for a sample cart (several items) and must stay
# well inside the limits of a send: a real cart can be larger than the sample, and a worker
# renders several parts of many messages in a row.
SAVE_SECONDS = 0.2
SAVE_STEPS = MAX_STEPS // 10
SAVE_WORK = MAX_WORK // 8

_SEQUENCES = (str, bytes, list, tuple)
_CONTAINERS = (list, tuple, set, frozenset, dict, MappingProxyType)
_SCALARS = (bool, float, Decimal, datetime, date, time, timedelta, Undefined)
_WALKED = (*_CONTAINERS, range)


class NoRenderState(RuntimeError):
    """Raised when a guarded operation runs outside :func:`rendering` (e.g. at compile time)."""


class RenderLimit(InvalidInput):
    """A render went over one of its limits (size, steps, work, time): the template costs too
    much. A message or step whose template raises it fails with this reason."""


class RenderTimeout(RenderLimit):
    """A render took longer than its budget's wall-clock seconds."""


def too_large(limit: int, what: str, detail: str = "") -> RenderLimit:
    suffix = f" ({detail})" if detail else ""
    return RenderLimit(f"template builds a value larger than {limit} {what}{suffix}")


@dataclass(frozen=True, slots=True)
class Budget:
    """What one rendered part may cost: loop iterations and calls, characters produced in all,
    and wall-clock seconds."""

    steps: int = MAX_STEPS
    work: int = MAX_WORK
    seconds: float = MAX_SECONDS


RUN_BUDGET = Budget()
SAVE_BUDGET = Budget(steps=SAVE_STEPS, work=SAVE_WORK, seconds=SAVE_SECONDS)
# The shipped default templates: cheap and trusted, so no machine's busy moment may fail them.
UNTIMED = Budget(seconds=float("inf"))

_clock = perf_counter  # a monotonic clock with the finest resolution on every platform


class RenderState:
    """Counters and the customer's formatting settings for one render of one part.

    The wall-clock deadline starts when the state is made (just before the render) and is
    checked wherever work is counted, and at every loop iteration.
    """

    __slots__ = (
        "budget",
        "currency",
        "deadline",
        "depth",
        "locale",
        "now",
        "steps",
        "tz",
        "work",
    )

    def __init__(
        self,
        *,
        locale: Any,
        tz: Any,
        currency: str,
        now: datetime | None,
        budget: Budget = RUN_BUDGET,
    ) -> None:
        self.locale = locale  # babel.Locale
        self.tz = tz  # zoneinfo.ZoneInfo
        self.currency = currency
        self.now = now
        self.budget = budget
        self.steps = 0
        self.work = 0
        self.depth = 0
        self.deadline = _clock() + budget.seconds

    def step(self, count: int = 1) -> None:
        self.steps += count
        if self.steps > self.budget.steps:
            raise RenderLimit(
                f"template runs more than {self.budget.steps} loop iterations and calls"
            )
        self.tick()

    def charge(self, size: int) -> None:
        self.work += size
        if self.work > self.budget.work:
            raise RenderLimit(f"template produces more than {self.budget.work} characters in all")
        self.tick()

    def tick(self) -> None:
        """Raise :class:`RenderTimeout` once the render has taken longer than its budget."""
        if _clock() > self.deadline:
            raise RenderTimeout(
                f"template took longer than {self.budget.seconds:g} s to render; "
                "simplify its loops and sorts"
            )


_STATE: ContextVar[RenderState | None] = ContextVar("reclaim_template_state", default=None)


def current() -> RenderState:
    state = _STATE.get()
    if state is None:
        raise NoRenderState("no template render in progress")
    return state


class rendering:
    """``with rendering(state):`` makes ``state`` the :func:`current` one in this context."""

    __slots__ = ("_state", "_token")

    def __init__(self, state: RenderState) -> None:
        self._state = state

    def __enter__(self) -> RenderState:
        self._token = _STATE.set(self._state)
        return self._state

    def __exit__(self, *exc: object) -> None:
        _STATE.reset(self._token)


def measure(value: object, limit: int = MAX_VALUE, *, printing: bool = False) -> int:
    """About how many characters ``str(value)`` has, computed without building it.

    Containers are walked (a list of 10^5 references to one long string is small in memory
    but huge as text); the walk stops and raises as soon as ``limit`` is passed. With
    ``printing`` (the value is about to become text) anything but plain data is refused, so a
    template cannot print ``<function money at 0x7f…>`` or a generator's repr.
    """
    if isinstance(value, str):
        size = len(value)
    elif value is None or isinstance(value, _SCALARS):
        size = 32
    elif isinstance(value, int):
        size = value.bit_length() // 3 + 2
    elif isinstance(value, bytes):
        size = len(value) * 4 + 3
    elif isinstance(value, _WALKED):
        size = _measure_container(value, limit, printing)
    elif printing:
        raise InvalidInput(
            f"template cannot print a {type(value).__name__} object, only text, numbers, dates "
            "and lists of them"
        )
    else:
        size = 64
    if size > limit:
        raise too_large(limit, "characters")
    return size


def _measure_container(value: object, limit: int, printing: bool) -> int:
    size = 0
    stack: list[object] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            size += 2
            for key, val in item.items():
                stack.append(key)
                stack.append(val)
        elif isinstance(item, range):
            size += 24
        elif isinstance(item, _CONTAINERS):
            size += 2 + len(item)
            stack.extend(item)
        elif isinstance(item, str):
            size += len(item) + 4
        else:
            size += measure(item, limit, printing=printing)
        if size > limit:
            raise too_large(limit, "characters")
    return size


def check_repeat(seq: object, times: object) -> None:
    """``seq * times`` for a string or list must stay within :data:`MAX_VALUE`."""
    if isinstance(seq, _SEQUENCES) and isinstance(times, int) and len(seq) * times > MAX_VALUE:
        unit = "characters" if isinstance(seq, str | bytes) else "items"
        raise too_large(MAX_VALUE, unit, f"{len(seq)} × {times}")


def check_int_bits(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise too_large(MAX_INT_BITS, "bits", "integer arithmetic")


def check_power(base: object, exponent: object) -> None:
    if (
        isinstance(base, int)
        and isinstance(exponent, int)
        and exponent > 0
        and abs(base) > 1
        and base.bit_length() * exponent > MAX_INT_BITS
    ):
        raise too_large(MAX_INT_BITS, "bits", f"{base} ** {exponent}")


def check_width(width: object, what: str) -> None:
    if isinstance(width, int) and width > MAX_VALUE:
        raise too_large(MAX_VALUE, "characters", f"{what} width {width}")


# printf-style conversions: %[(name)][flags][width][.precision]type
_PRINTF = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[-#0 +]*(?P<width>\*|\d+)?(?:\.(?P<prec>\*|\d+))?[hlL]?(?P<type>.)",
    re.S,
)
_PLAIN = (str, int, float, Decimal, date, datetime, time, timedelta, Undefined, type(None))


def _format_args(values: Iterable[object]) -> int:
    """Largest text size among format arguments; only plain values may be formatted."""
    largest = 0
    for value in values:
        if not isinstance(value, _PLAIN):
            raise InvalidInput(
                f"template may only format strings, numbers and dates, not {type(value).__name__}"
            )
        largest = max(largest, measure(value))
    return largest


def _check_spec_number(text: str | None, fmt_kind: str) -> int:
    if text is None:
        return 0
    if text == "*":
        raise InvalidInput(f"template {fmt_kind} widths must be written as numbers, not '*'")
    number = int(text)
    if number > MAX_FORMAT_WIDTH:
        raise too_large(MAX_FORMAT_WIDTH, "characters", f"{fmt_kind} width {number}")
    return number


def check_printf(fmt: str, args: object) -> None:
    """Refuse a ``fmt % args`` whose widths or result would be too large."""
    conversions = 0
    widest = 0
    for match in _PRINTF.finditer(fmt):
        if match.group("type") == "%":
            continue
        conversions += 1
        widest = max(
            widest,
            _check_spec_number(match.group("width"), "format")
            + _check_spec_number(match.group("prec"), "format"),
        )
    if isinstance(args, Mapping):
        values: Iterable[object] = args.values()
    elif isinstance(args, tuple):
        values = args
    else:
        values = (args,)
    largest = _format_args(values)
    factor = 6 if hasattr(fmt, "__html__") else 1  # Markup escapes every argument
    estimate = len(fmt) + conversions * (widest + largest * factor)
    if estimate > MAX_VALUE:
        raise too_large(MAX_VALUE, "characters", "%-format")


_FORMATTER = string.Formatter()
_SPEC_NUMBER = re.compile(r"\d+")


def check_str_format(fmt: str, args: tuple[object, ...], kwargs: Mapping[str, object]) -> None:
    """Refuse a ``fmt.format(*args, **kwargs)`` whose widths or result would be too large."""
    fields = 0
    widest = 0
    try:
        parsed = list(_FORMATTER.parse(fmt))
    except ValueError as exc:
        raise InvalidInput(f"template has a bad format string: {exc}") from None
    for _literal, field, spec, _conversion in parsed:
        if field is None:
            continue
        fields += 1
        if spec and "{" in spec:
            raise InvalidInput("template format widths must be written as numbers")
        for number in _SPEC_NUMBER.findall(spec or ""):
            widest = max(widest, _check_spec_number(number, "format"))
    largest = _format_args((*args, *kwargs.values()))
    estimate = len(fmt) + fields * (widest + largest * 6)
    if estimate > MAX_VALUE:
        raise too_large(MAX_VALUE, "characters", "str.format")


def check_replace(text: str, old: str, new: str, count: int | None) -> None:
    occurrences = text.count(old) if old else len(text) + 1
    if count is not None and count >= 0:
        occurrences = min(occurrences, count)
    estimate = len(text) + occurrences * (len(new) - len(old))
    if estimate > MAX_VALUE:
        raise too_large(MAX_VALUE, "characters", "replace")


def check_join(parts: list[object], separator: object) -> None:
    sep = measure(separator, printing=True)
    estimate = sum(measure(part, printing=True) for part in parts) + sep * max(len(parts) - 1, 0)
    if estimate > MAX_VALUE:
        raise too_large(MAX_VALUE, "characters", "join")


def guard_iter(iterable: Any) -> Any:
    """What a ``{% for %}`` loop iterates: sized iterables are charged up front, others lazily;
    the clock is read at every iteration either way."""
    state = current()
    if isinstance(iterable, Undefined):
        return iterable
    try:
        size = len(iterable)
    except TypeError:
        return charged(iterable, state)
    state.step(size + 1)
    return _Timed(iterable, size, state)


def charged(iterable: Iterable[object], state: RenderState) -> Iterator[object]:
    """``iterable`` with a step charged for each item as it is taken (and one up front)."""
    state.step()
    for item in iterable:
        state.step()
        yield item


class _Timed:
    """A sized iterable already charged for: its length stays known to the loop (``loop.length``,
    ``loop.last``), and each item taken checks the render's deadline."""

    __slots__ = ("_iterable", "_size", "_state")

    def __init__(self, iterable: Iterable[object], size: int, state: RenderState) -> None:
        self._iterable = iterable
        self._size = size
        self._state = state

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[object]:
        tick = self._state.tick
        for item in self._iterable:
            tick()
            yield item
