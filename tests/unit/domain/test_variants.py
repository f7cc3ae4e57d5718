"""An experiment's variants (domain.variants): what an owner may ask for, and the flow a
variant of one step runs, with every refusal naming its field."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from reclaim.adapters.flows import default_flow
from reclaim.domain.messages import Channel
from reclaim.domain.variants import (
    MAX_VARIANTS,
    VariantSpec,
    apply_overrides,
    check_variants,
    variant_flow,
)
from reclaim.errors import InvalidInput

FLOW = default_flow("abandoned_checkout")


def test_a_timing_variant_changes_only_its_step() -> None:
    changed = apply_overrides(FLOW, "reminder", {"after": "3h"})
    assert changed.steps[0].after == timedelta(hours=3)
    assert FLOW.steps[0].after == timedelta(hours=1)  # the store's flow is left as it was
    assert changed.steps[1:] == FLOW.steps[1:]
    assert (changed.holdout, changed.kind) == (FLOW.holdout, FLOW.kind)


def test_copy_channel_and_incentive_variants() -> None:
    copy = apply_overrides(FLOW, "reminder", {"template": "abandoned_checkout/reminder_short"})
    assert copy.steps[0].template == "abandoned_checkout/reminder_short"
    sms = apply_overrides(FLOW, "reminder", {"channel": "sms", "fallback": None})
    assert (sms.steps[0].channel, sms.steps[0].fallback) == (Channel.SMS, None)
    # an incentive's fields are merged into the step's own offer (percent 10, 48 h)
    richer = apply_overrides(FLOW, "incentive", {"incentive": {"value": "15"}})
    offer = richer.steps[2].incentive
    assert offer is not None and (offer.kind, offer.value) == ("percent", Decimal(15))
    assert offer.expires_in == timedelta(hours=48)
    none = apply_overrides(FLOW, "incentive", {"incentive": None})
    assert none.steps[2].incentive is None
    # a step without an offer gets a whole one
    offered = apply_overrides(FLOW, "help", {"incentive": {"type": "free_shipping"}})
    assert offered.steps[1].incentive is not None


@pytest.mark.parametrize(
    ("step", "overrides", "field"),
    [
        ("checkout", {"after": "2h"}, "step"),
        ("reminder", {"after": "soon"}, "overrides.after"),
        ("reminder", {"after": "100d"}, "overrides.after"),
        ("reminder", {"channel": "pigeon"}, "overrides.channel"),
        ("reminder", {"template": "Reminder!"}, "overrides.template"),
        ("reminder", {"purpose": "transactional"}, "overrides.purpose"),
        ("reminder", {"template": None}, "overrides.template"),
        ("incentive", {"incentive": {"value": "150"}}, "overrides.incentive.value"),
        ("help", {"incentive": {"value": "5"}}, "overrides.incentive.type"),
    ],
)
def test_a_bad_override_names_its_field(
    step: str, overrides: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as exc:
        apply_overrides(FLOW, step, overrides)
    assert exc.value.field == field, exc.value
    assert "steps[" not in str(exc.value)  # worded for the variant, not the flow file


@pytest.mark.parametrize(
    ("variants", "target", "field"),
    [
        ([VariantSpec("A")], "reminder", "variants"),
        ([VariantSpec(str(i)) for i in range(MAX_VARIANTS + 1)], "reminder", "variants"),
        ([VariantSpec("A"), VariantSpec("A")], "reminder", "variants[1].key"),
        ([VariantSpec("A"), VariantSpec("B c")], "reminder", "variants[1].key"),
        ([VariantSpec("A"), VariantSpec("B", 0)], "reminder", "variants[1].weight"),
        ([VariantSpec("A"), VariantSpec("B", 1001)], "reminder", "variants[1].weight"),
        ([VariantSpec("A"), VariantSpec("B", 1, 3)], "reminder", "variants[1].flow_version"),
        (
            [VariantSpec("A"), VariantSpec("B", overrides={"colour": "red"})],
            "reminder",
            "variants[1].overrides.colour",
        ),
        (
            [VariantSpec("A"), VariantSpec("B", overrides={"after": "2h"})],
            "flow",
            "variants[1].overrides",
        ),
        ([VariantSpec("A"), VariantSpec("B", 1, 0)], "flow", "variants[1].flow_version"),
    ],
)
def test_bad_variants_name_the_field(variants: list[VariantSpec], target: str, field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        check_variants(variants, target=target)
    assert exc.value.field == field


def test_good_variants_pass() -> None:
    check_variants(
        [VariantSpec("A", 2), VariantSpec("short_delay", 1, overrides={"after": "2h"})],
        target="reminder",
    )
    check_variants([VariantSpec("A"), VariantSpec("B", 1, 3)], target="flow")


def test_a_variants_flow_is_named_after_its_experiment() -> None:
    named = variant_flow(FLOW, experiment="delay", variant="B")
    assert named.name == "Abandoned checkout [delay: B]" and named.steps == FLOW.steps
    long = variant_flow(FLOW, experiment="x" * 120, variant="B")
    assert len(long.name) <= 120
