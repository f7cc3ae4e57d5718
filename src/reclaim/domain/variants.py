"""What an experiment's variants are (SPEC S12, docs/experiments.md): each variant is a flow
version that its cases run, either a version the store already has (``flow_version``: an
experiment of whole flows) or the store's current flow with one step changed (``overrides``
of the experiment's step: its timing, its copy, its channel, its incentive).

:func:`check_variants` validates what an owner asks for and :func:`apply_overrides` makes the
changed flow, both naming the offending field; the services save that flow as a version of
its own, so the step engine runs a variant exactly as it runs any flow.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from reclaim.domain.flows import Flow, flow_to_data, parse_flow
from reclaim.errors import InvalidInput

TARGET_FLOW = "flow"
"""The target of an experiment of whole flows; any other target is a step's key."""
STEP_FIELDS = ("after", "anchor", "channel", "fallback", "template", "incentive")
"""What a variant may change in its step: the timing (``after``, ``anchor``), the channel
(``channel``, ``fallback``), the copy (``template``) and the incentive (``incentive``)."""
CLEARABLE = ("fallback", "incentive")
"""Fields a variant may remove (``none``)."""
MAX_VARIANTS = 8
MAX_WEIGHT = 1000
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
_NAME_ROOM = 120  # flows.name


@dataclass(frozen=True, slots=True)
class VariantSpec:
    """One variant as an owner asks for it: ``key`` (``A``, ``B``, ``short_delay`` …), its
    ``weight`` in the split, and what its cases run: a version of the store's flow
    (``flow_version``), the current flow with its experiment step changed (``overrides``,
    in the flow file's form: ``{"after": "2h"}``, ``{"incentive": {"value": 15}}``), or,
    with neither, the current flow as it is (the control)."""

    key: str
    weight: int = 1
    flow_version: int | None = None
    overrides: Mapping[str, object] = field(default_factory=dict)


def check_variants(variants: Sequence[VariantSpec], *, target: str) -> None:
    """``InvalidInput`` naming the field (``variants[1].weight``) unless ``variants`` are 2
    to :data:`MAX_VARIANTS` distinct keys of weight 1 to :data:`MAX_WEIGHT`, each asking for
    what its ``target`` allows (a flow version for ``flow``, overrides of a step's
    :data:`STEP_FIELDS` for a step)."""
    if not 2 <= len(variants) <= MAX_VARIANTS:
        raise InvalidInput(
            f"an experiment has 2 to {MAX_VARIANTS} variants, the first the control",
            field="variants",
        )
    seen: set[str] = set()
    for i, v in enumerate(variants):
        where = f"variants[{i}]"
        if not _KEY.match(v.key):
            raise InvalidInput(
                f"{where}.key must be 1–32 letters, digits, _ or -, e.g. A or short_delay",
                field=f"{where}.key",
            )
        if v.key in seen:
            raise InvalidInput(f"variant {v.key!r} is named twice", field=f"{where}.key")
        seen.add(v.key)
        if isinstance(v.weight, bool) or not isinstance(v.weight, int):
            raise InvalidInput(f"{where}.weight must be a whole number", field=f"{where}.weight")
        if not 1 <= v.weight <= MAX_WEIGHT:
            raise InvalidInput(f"{where}.weight must be 1 to {MAX_WEIGHT}", field=f"{where}.weight")
        if target == TARGET_FLOW:
            if v.overrides:
                raise InvalidInput(
                    f"variant {v.key!r}: an experiment of whole flows runs flow versions; "
                    "to change one step, name the step (--step KEY)",
                    field=f"{where}.overrides",
                )
            if v.flow_version is not None and v.flow_version < 1:
                raise InvalidInput(
                    f"{where}.flow_version must be a version number (reclaim flows list)",
                    field=f"{where}.flow_version",
                )
        else:
            if v.flow_version is not None:
                raise InvalidInput(
                    f"variant {v.key!r}: an experiment of one step changes the current flow; "
                    "to run another flow version, leave the step out",
                    field=f"{where}.flow_version",
                )
            for name in v.overrides:
                if name not in STEP_FIELDS:
                    raise InvalidInput(
                        f"variant {v.key!r}: {str(name)[:40]!r} cannot be varied; one of "
                        f"{', '.join(STEP_FIELDS)}",
                        field=f"{where}.overrides.{str(name)[:40]}",
                    )


def apply_overrides(flow: Flow, step_key: str, overrides: Mapping[str, object]) -> Flow:
    """``flow`` with its step ``step_key`` changed by ``overrides`` (an incentive's fields
    are merged into the step's own incentive; ``None`` removes a fallback or an incentive),
    checked as a whole flow is. ``InvalidInput`` names the field as ``overrides.<field>``
    (or ``step`` for a step the flow lacks)."""
    data = flow_to_data(flow)
    steps: list[dict[str, object]] = list(data["steps"])  # type: ignore[call-overload]
    keys = [str(s["key"]) for s in steps]
    if step_key not in keys:
        raise InvalidInput(
            f"the {flow.kind} flow has no step {step_key[:32]!r} (its steps: {', '.join(keys)})",
            field="step",
        )
    position = keys.index(step_key)
    step = dict(steps[position])
    for name, value in overrides.items():
        if name not in STEP_FIELDS:
            raise InvalidInput(
                f"{str(name)[:40]!r} cannot be varied; one of {', '.join(STEP_FIELDS)}",
                field=f"overrides.{str(name)[:40]}",
            )
        if value is None:
            if name not in CLEARABLE:
                raise InvalidInput(f"{name} cannot be removed", field=f"overrides.{name}")
            step.pop(name, None)
            continue
        own = step.get(name)
        merged = value
        if name == "incentive" and isinstance(value, Mapping) and isinstance(own, Mapping):
            merged = {**own, **value}
        step[name] = merged
    steps[position] = step
    data["steps"] = steps
    try:
        return parse_flow(data)
    except InvalidInput as exc:
        prefix = f"steps[{position}]"
        name = exc.field or ""
        inner = name[len(prefix) + 1 :] if name.startswith(prefix + ".") else name
        message = str(exc).replace(f"{prefix}.", "").replace(f"{prefix}: ", "")
        raise InvalidInput(message, field=f"overrides.{inner}") from None


def variant_flow(flow: Flow, *, experiment: str, variant: str) -> Flow:
    """``flow`` renamed for one variant of one experiment (what ``reclaim flows list``
    shows beside the store's own versions)."""
    suffix = f" [{experiment}: {variant}]"
    return replace(flow, name=(flow.name[: max(1, _NAME_ROOM - len(suffix))] + suffix)[:_NAME_ROOM])


def _bad(said: str, key: str, what: str) -> InvalidInput:
    return InvalidInput(f"{said} {key[:40]!r}: {what}")


def parse_variant(text: str, *, said: str = "variant") -> VariantSpec:
    """``KEY[:WEIGHT][=FIELD=VALUE,…]``: ``A``, ``B:2``, ``B=after=2h``,
    ``C:1=template=abandoned_checkout/reminder_short,incentive.value=15``, ``D=incentive=none``,
    ``old=flow=3`` (a flow version, for an experiment of whole flows): as
    ``reclaim experiment start --variant`` and the console's start form read it. A fault is
    ``InvalidInput`` saying ``<said> 'KEY': …`` (the CLI says ``--variant``)."""
    head, _, rest = text.strip().partition("=")
    key, colon, weight_text = head.partition(":")
    key = key.strip()
    weight = 1
    if colon:
        try:
            weight = int(weight_text.strip())
        except ValueError:
            raise _bad(said, key, "the weight after ':' must be a whole number, e.g. B:2") from None
    overrides: dict[str, Any] = {}
    flow_version: int | None = None
    for part in (p.strip() for p in rest.split(",")) if rest.strip() else ():
        name, eq, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if not eq or not name:
            raise _bad(said, key, f"{part[:60]!r} is not FIELD=VALUE (e.g. after=2h)")
        if name == "flow":
            try:
                flow_version = int(value.removeprefix("v"))
            except ValueError:
                raise _bad(said, key, "flow= takes a version number (reclaim flows list)") from None
        elif name.startswith("incentive."):
            offer = overrides.setdefault("incentive", {})
            if not isinstance(offer, dict):
                raise _bad(said, key, "incentive=none and incentive.… together")
            offer[name.removeprefix("incentive.")] = value
        elif name in CLEARABLE and value.lower() == "none":
            overrides[name] = None
        else:
            overrides[name] = value
    return VariantSpec(key=key, weight=weight, flow_version=flow_version, overrides=overrides)
