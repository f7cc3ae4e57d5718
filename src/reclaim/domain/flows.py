"""Flows: the timed steps a case goes through (SPEC S3).

A flow is plain data parsed from a mapping (the YAML a merchant edits; ``adapters/flows``
reads the file). Parsing validates everything and names the offending field
(``steps[2].after``), so a bad flow is refused when it is saved, never when a step is due.

A case keeps the flow *version* it started with; editing a flow makes a new version for the
cases that open afterwards.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

from reclaim.domain.alternatives import SoldOutPolicy
from reclaim.domain.cases import Case, CaseKind
from reclaim.domain.incentives import IncentiveSpec
from reclaim.domain.messages import Channel, Purpose
from reclaim.errors import InvalidInput

E = TypeVar("E", bound=StrEnum)
MAX_STEPS = 12
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)\s*$")
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_TEMPLATE = re.compile(r"^[a-z_]+/[a-z0-9_]+(?:\.[a-z0-9_]+)?$")


class Anchor(StrEnum):
    """What a step's delay counts from."""

    OCCURRED = "occurred"  # the opportunity: last cart activity, order placed, payment failed
    HOLD_END = "hold_end"  # pending orders: the end of the stock hold (auto-cancel time)


class Audience(StrEnum):
    ANY = "any"
    NEW = "new"
    RETURNING = "returning"


@dataclass(frozen=True, slots=True)
class Conditions:
    """Who a step is for; checked again at send time (SPEC S3)."""

    min_value: Decimal | None = None
    max_value: Decimal | None = None
    countries: frozenset[str] = frozenset()  # empty: any
    exclude_countries: frozenset[str] = frozenset()
    audience: Audience = Audience.ANY
    reasons: frozenset[str] = frozenset()  # failed payments: only these reasons
    exclude_reasons: frozenset[str] = frozenset()
    score_bands: frozenset[str] = frozenset()  # S10 bands (low/medium/high); empty: any

    def unmet(self, case: Case, *, returning: bool | None, score_band: str | None) -> str | None:
        """The first condition ``case`` does not meet, by name, or ``None``."""
        if self.min_value is not None and case.value < self.min_value:
            return "min_value"
        if self.max_value is not None and case.value > self.max_value:
            return "max_value"
        country = (case.contact.country or "").upper()
        if self.countries and country not in self.countries:
            return "countries"
        if country and country in self.exclude_countries:
            return "exclude_countries"
        if self.audience is Audience.NEW and returning is not False:
            return "audience"
        if self.audience is Audience.RETURNING and returning is not True:
            return "audience"
        if self.reasons and case.reason not in self.reasons:
            return "reasons"
        if case.reason in self.exclude_reasons:
            return "exclude_reasons"
        if self.score_bands and score_band not in self.score_bands:
            return "score_bands"
        return None


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    after: timedelta
    channel: Channel
    template: str
    purpose: Purpose
    anchor: Anchor = Anchor.OCCURRED
    fallback: Channel | None = None  # used when the customer cannot be reached on ``channel``
    conditions: Conditions = field(default_factory=Conditions)
    incentive: IncentiveSpec | None = None
    closes_case: str | None = None  # "lost": the step ends the case (pending order cancelled)
    sold_out: SoldOutPolicy | None = None  # carts: this step's own choice, else the flow's


@dataclass(frozen=True, slots=True)
class Flow:
    kind: CaseKind
    name: str
    steps: tuple[Step, ...]
    holdout: float = 0.10
    # Abandoned carts with an item sold out everywhere: offer in-stock alternatives where the
    # store has comparable ones (else skip the step), or always skip (SPEC S7).
    sold_out: SoldOutPolicy = SoldOutPolicy.ALTERNATIVE

    def step(self, position: int) -> Step | None:
        return self.steps[position] if 0 <= position < len(self.steps) else None

    def sold_out_policy(self, step: Step) -> SoldOutPolicy:
        """What ``step`` does about a cart item sold out everywhere."""
        return step.sold_out or self.sold_out


# -- time -----------------------------------------------------------------------------------


def parse_duration(value: object, path: str) -> timedelta:
    """``"90s"``, ``"30m"``, ``"1h"``, ``"1.5d"``, ``"2w"`` or a number of seconds."""
    if isinstance(value, bool):
        raise InvalidInput(f"{path} must be a duration such as 1h or 30m", field=path)
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        m = _DURATION.match(str(value))
        if m is None:
            raise InvalidInput(f"{path} must be a duration such as 1h, 30m or 2d", field=path)
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if not 0 <= seconds <= 90 * 86400:
        raise InvalidInput(f"{path} must be between 0 and 90 days", field=path)
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def step_due(
    step: Step,
    case: Case,
    *,
    hold_period: timedelta,
    not_before: datetime,
    hold_end: datetime | None = None,
) -> datetime:
    """When ``step`` is due for ``case``: its anchor plus its delay, never before ``not_before``.

    ``not_before`` is the moment the previous step finished (or the case opened): a flow's
    steps go out in order even when a customer's case opened late. ``hold_end`` is the
    order's actual hold end where it has one (an operator may have extended it); else the
    store's hold period after the order.
    """
    anchor = case.occurred_at
    if step.anchor is Anchor.HOLD_END:
        anchor = hold_end or case.occurred_at + hold_period
    return max(anchor + step.after, not_before)


# -- holdout --------------------------------------------------------------------------------


def in_holdout(store_id: str, kind: str, subject_id: str, share: float) -> bool:
    """Deterministic assignment: the same case lands on the same side on every replay.

    The first 8 bytes of SHA-256 over the case's identity, as a fraction of 2**64, against
    the flow's share. Uniform over cases, independent of anything about the customer.
    """
    if share <= 0:
        return False
    digest = hashlib.sha256(f"{store_id}\x1f{kind}\x1f{subject_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


# -- parsing --------------------------------------------------------------------------------


def parse_flow(data: object, *, kind: str | None = None) -> Flow:
    """A validated :class:`Flow` from its mapping form, or ``InvalidInput`` naming the field."""
    if not isinstance(data, Mapping):
        raise InvalidInput("a flow must be a mapping with kind, name and steps", field="flow")
    unknown = set(data) - {"kind", "name", "holdout", "sold_out", "steps"}
    if unknown:
        raise InvalidInput(f"unknown flow field {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    raw_kind = data.get("kind", kind)
    kinds = {k.value for k in CaseKind}
    if raw_kind not in kinds:
        raise InvalidInput(f"kind must be one of {'|'.join(sorted(kinds))}", field="kind")
    if kind is not None and raw_kind != kind:
        raise InvalidInput(f"this flow is for {raw_kind}, not {kind}", field="kind")
    name = data.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 120:
        raise InvalidInput("name must be 1–120 characters", field="name")
    holdout = data.get("holdout", 0.10)
    if isinstance(holdout, bool) or not isinstance(holdout, int | float) or not 0 <= holdout <= 0.5:
        raise InvalidInput("holdout must be a share between 0 and 0.5, e.g. 0.1", field="holdout")
    steps = data.get("steps")
    if not isinstance(steps, Sequence) or isinstance(steps, str) or not steps:
        raise InvalidInput("steps must be a non-empty list", field="steps")
    if len(steps) > MAX_STEPS:
        raise InvalidInput(f"a flow has at most {MAX_STEPS} steps", field="steps")
    parsed = tuple(_step(s, f"steps[{i}]") for i, s in enumerate(steps))
    keys = [s.key for s in parsed]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            raise InvalidInput(f"step key {key!r} is used twice", field=f"steps[{i}].key")
    sold_out = SoldOutPolicy.ALTERNATIVE
    if raw_kind != CaseKind.ABANDONED_CHECKOUT:
        # A pending order's hold keeps its units: the setting would never apply.
        where = "sold_out" if "sold_out" in data else None
        for i, s in enumerate(parsed):
            if where is None and s.sold_out is not None:
                where = f"steps[{i}].sold_out"
        if where is not None:
            raise InvalidInput(f"{where} applies to abandoned_checkout flows only", field=where)
    elif "sold_out" in data:
        sold_out = _enum(SoldOutPolicy, data["sold_out"], "sold_out")
    return Flow(
        kind=CaseKind(raw_kind),
        name=name.strip(),
        steps=parsed,
        holdout=float(holdout),
        sold_out=sold_out,
    )


_STEP_FIELDS = {
    "key",
    "after",
    "anchor",
    "channel",
    "fallback",
    "template",
    "purpose",
    "conditions",
    "incentive",
    "closes_case",
    "sold_out",
}


def _step(data: object, path: str) -> Step:
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{path} must be a mapping", field=path)
    unknown = set(data) - _STEP_FIELDS
    if unknown:
        first = sorted(unknown)[0]
        raise InvalidInput(f"{path}: unknown field {first!r}", field=f"{path}.{first}")
    key = data.get("key")
    if not isinstance(key, str) or not _KEY.match(key):
        raise InvalidInput(
            f"{path}.key must be lower-case letters, digits and _", field=f"{path}.key"
        )
    template = data.get("template")
    if not isinstance(template, str) or not _TEMPLATE.match(template):
        raise InvalidInput(
            f"{path}.template must look like abandoned_checkout/reminder",
            field=f"{path}.template",
        )
    closes = data.get("closes_case")
    if closes not in (None, "lost"):
        raise InvalidInput(f"{path}.closes_case can only be lost", field=f"{path}.closes_case")
    return Step(
        key=key,
        after=parse_duration(data.get("after", 0), f"{path}.after"),
        anchor=_enum(Anchor, data.get("anchor", "occurred"), f"{path}.anchor"),
        channel=_enum(Channel, data.get("channel", "email"), f"{path}.channel"),
        fallback=(
            None
            if data.get("fallback") is None
            else _enum(Channel, data.get("fallback"), f"{path}.fallback")
        ),
        template=template,
        purpose=_enum(Purpose, data.get("purpose", "marketing"), f"{path}.purpose"),
        conditions=_conditions(data.get("conditions"), f"{path}.conditions"),
        incentive=_incentive(data.get("incentive"), f"{path}.incentive"),
        closes_case=closes,
        sold_out=(
            None
            if data.get("sold_out") is None
            else _enum(SoldOutPolicy, data.get("sold_out"), f"{path}.sold_out")
        ),
    )


def _enum(cls: type[E], value: object, path: str) -> E:
    try:
        return cls(str(value))
    except ValueError:
        allowed = "|".join(m.value for m in cls)
        raise InvalidInput(f"{path} must be one of {allowed}", field=path) from None


def _decimal(value: object, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise InvalidInput(f"{path} must be a number", field=path)
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput(f"{path} must be a number", field=path) from None
    if not d.is_finite() or d < 0:
        raise InvalidInput(f"{path} must be a number ≥ 0", field=path)
    return d


def _codes(value: object, path: str, *, upper: bool) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"{path} must be a list of codes", field=path)
    return frozenset(v.upper() if upper else v for v in value)


def _conditions(data: object, path: str) -> Conditions:
    if data is None:
        return Conditions()
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{path} must be a mapping", field=path)
    allowed = {
        "min_value",
        "max_value",
        "countries",
        "exclude_countries",
        "customer",
        "reasons",
        "exclude_reasons",
        "score_bands",
    }
    unknown = set(data) - allowed
    if unknown:
        first = sorted(unknown)[0]
        raise InvalidInput(f"{path}: unknown condition {first!r}", field=f"{path}.{first}")
    get: dict[str, Any] = dict(data)
    lo = None if get.get("min_value") is None else _decimal(get["min_value"], f"{path}.min_value")
    hi = None if get.get("max_value") is None else _decimal(get["max_value"], f"{path}.max_value")
    if lo is not None and hi is not None and lo > hi:
        raise InvalidInput(f"{path}.min_value is above max_value", field=f"{path}.min_value")
    return Conditions(
        min_value=lo,
        max_value=hi,
        countries=_codes(get.get("countries"), f"{path}.countries", upper=True),
        exclude_countries=_codes(
            get.get("exclude_countries"), f"{path}.exclude_countries", upper=True
        ),
        audience=_enum(Audience, get.get("customer", "any"), f"{path}.customer"),
        reasons=_codes(get.get("reasons"), f"{path}.reasons", upper=False),
        exclude_reasons=_codes(get.get("exclude_reasons"), f"{path}.exclude_reasons", upper=False),
        score_bands=_codes(get.get("score_bands"), f"{path}.score_bands", upper=False),
    )


def _incentive(data: object, path: str) -> IncentiveSpec | None:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{path} must be a mapping", field=path)
    unknown = set(data) - {"type", "value", "expires_in", "min_order"}
    if unknown:
        first = sorted(unknown)[0]
        raise InvalidInput(f"{path}: unknown field {first!r}", field=f"{path}.{first}")
    kind = data.get("type")
    if kind not in ("percent", "fixed", "free_shipping"):
        raise InvalidInput(f"{path}.type must be percent|fixed|free_shipping", field=f"{path}.type")
    minimum = data.get("min_order")
    try:
        return IncentiveSpec(
            kind=kind,
            value=_decimal(data.get("value", 0), f"{path}.value"),
            expires_in=parse_duration(data.get("expires_in", "48h"), f"{path}.expires_in"),
            min_order=None if minimum is None else _decimal(minimum, f"{path}.min_order"),
        )
    except InvalidInput as exc:  # the spec names its own field; put it under this step
        name = f"{path}.{exc.field}" if exc.field and not exc.field.startswith(path) else exc.field
        raise InvalidInput(f"{path}: {exc}", field=name) from None


def flow_to_data(flow: Flow) -> dict[str, object]:
    """The mapping form of ``flow`` (what :func:`parse_flow` reads back to an equal flow)."""

    def step(s: Step) -> dict[str, object]:
        out: dict[str, object] = {
            "key": s.key,
            "after": format_duration(s.after),
            "channel": s.channel.value,
            "template": s.template,
            "purpose": s.purpose.value,
        }
        if s.anchor is not Anchor.OCCURRED:
            out["anchor"] = s.anchor.value
        if s.fallback is not None:
            out["fallback"] = s.fallback.value
        c = s.conditions
        cond: dict[str, object] = {}
        if c.min_value is not None:
            cond["min_value"] = str(c.min_value)
        if c.max_value is not None:
            cond["max_value"] = str(c.max_value)
        for name in ("countries", "exclude_countries", "reasons", "exclude_reasons", "score_bands"):
            if getattr(c, name):
                cond[name] = sorted(getattr(c, name))
        if c.audience is not Audience.ANY:
            cond["customer"] = c.audience.value
        if cond:
            out["conditions"] = cond
        if s.incentive is not None:
            inc: dict[str, object] = {
                "type": s.incentive.kind,
                "value": str(s.incentive.value),
                "expires_in": format_duration(s.incentive.expires_in),
            }
            if s.incentive.min_order is not None:
                inc["min_order"] = str(s.incentive.min_order)
            out["incentive"] = inc
        if s.closes_case:
            out["closes_case"] = s.closes_case
        if s.sold_out is not None:
            out["sold_out"] = s.sold_out.value
        return out

    data: dict[str, object] = {"kind": flow.kind.value, "name": flow.name, "holdout": flow.holdout}
    if flow.kind is CaseKind.ABANDONED_CHECKOUT:
        data["sold_out"] = flow.sold_out.value
    data["steps"] = [step(s) for s in flow.steps]
    return data
