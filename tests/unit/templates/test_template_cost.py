"""A merchant's template cannot stall the worker (issue 11, "Hostile input").

The reported template (about 350 bytes) sorted a 10,000-item list inside 40,000 loop turns and
ran 22–25 s per part before the work limit stopped it. Now each part of a render has a
wall-clock deadline, read wherever work is counted; what one filter, method, comparison or test
walks counts as work before it runs; and a template is tried on a sample cart when it is saved,
under a far smaller budget, and refused when it costs too much.

No test here measures time: a deadline is made tiny and the test looks at which error comes.
The new names are reached through their modules, so that each test fails on its own (not the
whole file at import) where they are missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from template_helpers import STORE, Overrides, full_context

from helpers import make_store
from reclaim.adapters.templates import CompiledTemplate, TemplateRenderer, compile_template, limits
from reclaim.adapters.templates import renderer as renderer_module
from reclaim.adapters.templates.defaults import defaults
from reclaim.bootstrap import Runtime
from reclaim.domain.messages import Channel
from reclaim.domain.stores import Store
from reclaim.entrypoints.cli import main
from reclaim.errors import InvalidInput
from reclaim.services import templates as service

KEY = "abandoned_checkout/reminder"
NOW = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)

# The reported template: 4 × 10,000 loop turns, each sorting a 10,000-item list.
REPORTED = (
    "{%- set pool = range(10000)|reverse|list -%}\n"
    "{%- for round in range(4) -%}\n"
    "{%- for turn in range(10000) -%}\n"
    "{%- set ranked = pool|sort(reverse=turn is odd) -%}\n"
    "{%- if loop.last and round == 3 %}Top: {{ ranked|first }}. {% endif -%}\n"
    "{%- endfor -%}\n"
    "{%- endfor -%}\n"
    "Hi {{ first_name }}, your cart at {{ store.name }} is still waiting for you: "
    "{{ restore_url }}\n"
)

HTML_OK = (
    '{% extends "layout.html" %}{% block content %}'
    "<p>{{ items|length }} items at {{ store.name }}:</p>"
    "{% for item in items|sort(attribute='name') %}<p>{{ item.name }} {{ item.line_total|money }}"
    "</p>{% endfor %}{% endblock %}"
)
TEXT_OK = (
    '{% extends "layout.txt" %}{% block content %}'
    "{% for item in items %}{{ item.quantity }} × {{ item.name }}\n{% endfor %}{% endblock %}"
)


def sms(text: str) -> CompiledTemplate:
    return compile_template(
        key=KEY, locale="en", channel=Channel.SMS, subject="", html=None, text=text
    )


def render_with(compiled: CompiledTemplate, **renderer_options: Any) -> str:
    renderer = TemplateRenderer(overrides=Overrides(compiled), **renderer_options)
    rendered = renderer.render(
        key=KEY, channel=compiled.channel, context=full_context(locale="en"), store_id="store-1"
    )
    return rendered.text


def test_the_reported_template_stops_at_the_deadline_with_a_clear_reason() -> None:
    assert 330 <= len(REPORTED.encode()) <= 370
    with pytest.raises(limits.RenderLimit) as error:
        render_with(sms(REPORTED), time_limit=0.001)
    assert isinstance(error.value, InvalidInput)  # what fails a message with template_error
    assert error.value.field == "text"
    assert str(error.value) == (
        "text: template took longer than 0.001 s to render; simplify its loops and sorts"
    )


def test_the_default_deadline_is_one_second_per_part() -> None:
    assert limits.MAX_SECONDS == 1.0
    assert limits.RUN_BUDGET.seconds == limits.MAX_SECONDS
    budget = limits.Budget()
    state = limits.RenderState(locale=None, tz=None, currency="EUR", now=None, budget=budget)
    assert state.budget.seconds == 1.0


def test_the_shipped_defaults_have_no_deadline_to_miss() -> None:
    # Trusted and cheap: a busy machine must not fail them (their other limits stay).
    renderer = TemplateRenderer(time_limit=1e-9)
    rendered = renderer.render(key=KEY, channel=Channel.EMAIL, context=full_context(locale="en"))
    assert "Linen shirt" in rendered.text


def test_each_sort_of_the_reported_template_counts_as_work_before_it_runs() -> None:
    # With all the time in the world, the sorts' own size stops it (after a few of them),
    # where before only the text they made was counted, after 838 of them.
    with pytest.raises(limits.RenderLimit) as error:
        render_with(sms(REPORTED), time_limit=3600)
    assert str(error.value) == "text: template runs more than 100000 loop iterations and calls"


SINGLE_CALLS = [
    # a 10,000-item list sorted a dozen times: each sort counts 10,000 before it runs
    "{% set xs = range(10000)|list %}{% for i in range(12) %}{{ xs|sort|length }}{% endfor %}",
    # a range made into a list ten times
    "{% for i in range(10) %}{{ range(10000)|list|length }}{% endfor %}",
    # searching a long list, by operator, by test and by method
    "{% set xs = [0] * 50000 %}{% for i in range(3) %}{{ -1 in xs }}{% endfor %}",
    "{% set xs = [0] * 50000 %}{% for i in range(3) %}{{ -1 is in xs }}{% endfor %}",
    "{% set xs = [0] * 50000 %}{% for i in range(3) %}{{ xs.count(-1) }}{% endfor %}",
    "{% set xs = [0] * 50000 %}{% for i in range(3) %}{{ xs == xs|list }}{% endfor %}",
    # a chain of lazy filters: each item taken from the chain counts
    "{{ range(10000)|map('string')|map('trim')|map('lower')|map('upper')|select|list|length }}"
    "{{ range(10000)|map('string')|map('trim')|map('lower')|map('upper')|select|list|length }}",
]


@pytest.mark.parametrize("source", SINGLE_CALLS)
def test_what_one_operation_walks_counts_before_it_runs(source: str) -> None:
    with pytest.raises(limits.RenderLimit) as error:
        render_with(sms(source), time_limit=3600)
    assert str(error.value) == "text: template runs more than 100000 loop iterations and calls"


# -- saving: the template is tried on a sample cart under the save-time budget -------------


@dataclass
class FakeTemplates:
    stored: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)

    def put(self, **row: Any) -> None:
        self.stored.append(row)

    def add_version(self, **row: Any) -> int:
        self.versions.append(row)
        return len(self.versions)


@dataclass
class FakeStores:
    store: Store

    def get(self, store_id: str) -> Store | None:
        return self.store if store_id == self.store.id else None


class FakeUow:
    """What ``save_template`` uses of a unit of work."""

    def __init__(self) -> None:
        self.stores = FakeStores(
            Store(
                id="st_1",
                name=STORE.name,
                platform="custom",
                currency="EUR",
                timezone="Europe/Paris",
                domain=STORE.domain,
                webhook_secret="x" * 32,
                activated_at=NOW,
                settings_json={"postal_address": STORE.postal_address},
            )
        )
        self.templates = FakeTemplates()
        self.commits = 0

    def __enter__(self) -> FakeUow:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def commit(self) -> None:
        self.commits += 1


def save(uow: FakeUow, compiled: CompiledTemplate) -> None:
    service.save_template(
        uow=uow,  # type: ignore[arg-type]
        store_id="st_1",
        key=compiled.key,
        channel=compiled.channel.value,
        locale=compiled.locale,
        compiled=json.loads(compiled.to_json()),
        now=NOW,
        cost_check=renderer_module.check_cost,
    )


def test_saving_the_reported_template_is_refused_and_nothing_is_stored() -> None:
    uow = FakeUow()
    with pytest.raises(InvalidInput) as error:
        save(uow, sms(REPORTED))
    assert error.value.field == "text"
    assert str(error.value) == (
        "text: template is too expensive to save (rendered for a sample cart of 5 items, it "
        "must stay well within what a send may cost): "
        f"template runs more than {limits.SAVE_STEPS} loop iterations and calls"
    )
    assert uow.templates.stored == [] and uow.commits == 0


def test_the_save_time_check_has_a_deadline_of_its_own() -> None:
    sample = service.cost_sample(
        key=KEY, locale="en", store=STORE, public_url="https://shop.example", now=NOW
    )
    with pytest.raises(InvalidInput) as error:
        renderer_module.check_cost(sms(REPORTED), sample, budget=limits.Budget(seconds=0.001))
    assert error.value.field == "text"
    assert str(error.value) == (
        "text: template is too expensive to save (rendered for a sample cart of 5 items, it "
        "must stay well within what a send may cost): "
        "template took longer than 0.001 s to render; simplify its loops and sorts"
    )
    assert limits.SAVE_BUDGET.seconds == 0.2
    assert limits.SAVE_BUDGET.steps < limits.MAX_STEPS and limits.SAVE_BUDGET.work < limits.MAX_WORK


ORDINARY = (
    "{% for item in items|sort(attribute='name') %}{{ loop.index }}/{{ loop.length }} "
    "{{ item.name }}{% if not loop.last %}, {% endif %}{% endfor %}; "
    "{{ 'Linen shirt' in items|map(attribute='name')|list }} {{ 2 is in [1, 2] }} "
    "{{ [3, 1, 2]|sort|join }} {{ range(3)|list == [0, 1, 2] }} {{ [1, 2].count(2) }}"
)


def test_a_normal_template_still_saves_and_renders() -> None:
    uow = FakeUow()
    save(uow, sms(ORDINARY))  # loops, sorts, searches and comparisons as templates use them
    assert render_with(CompiledTemplate.from_json(uow.templates.stored[0]["compiled"])) == (
        "1/2 Canvas tote, 2/2 Linen shirt; True True 123 True 1"
    )
    uow = FakeUow()
    compiled = compile_template(
        key=KEY, locale="de", channel=Channel.EMAIL, subject="Ihr Korb, {{ first_name }}",
        html=HTML_OK, text=TEXT_OK,
    )  # fmt: skip
    save(uow, compiled)
    [row] = uow.templates.stored
    assert (row["key"], row["channel"], row["locale"]) == (KEY, "email", "de")
    assert uow.commits == 1
    stored = CompiledTemplate.from_json(row["compiled"])
    rendered = TemplateRenderer(overrides=Overrides(stored)).render(
        key=KEY, channel=Channel.EMAIL, context=full_context(locale="de"), store_id="st_1"
    )
    assert rendered.subject == "Ihr Korb, Anna"
    assert "2 × Linen shirt" in rendered.text and "Canvas tote" in (rendered.html or "")


def test_the_sample_cart_is_the_richest_context_in_the_template_locale() -> None:
    sample = service.cost_sample(
        key="pending_order/reminder", locale="ja", store=STORE, public_url="https://x", now=NOW
    )
    assert sample.locale == "ja" and len(sample.items) == 5 and sample.alternatives
    assert any(item.sold_out for item in sample.items)
    assert sample.coupon and sample.promise and sample.order_number and sample.reason
    assert sample.hold_expires_at is not None


def test_the_default_emails_pass_the_save_time_check() -> None:
    for (key, locale, channel), compiled in defaults().templates.items():
        # e-mails are the richest (subject, text and html); the locales differ in words only
        if channel is not Channel.EMAIL or locale not in ("en", "zh-CN"):
            continue
        sample = service.cost_sample(
            key=key, locale=locale, store=STORE, public_url="https://x", now=NOW
        )
        renderer_module.check_cost(compiled, sample)


def test_templates_set_refuses_the_reported_template_and_stores_nothing(
    sqlite_rt: Runtime, tmp_path: Path
) -> None:
    store = make_store(sqlite_rt, postal_address="1 Rue de la Paix, Paris")
    env = {"RECLAIM_DATABASE_URL": sqlite_rt.settings.database_url}
    hostile = tmp_path / "hostile.html"
    hostile.write_text(
        '{% extends "layout.html" %}{% block content %}' + REPORTED + "{% endblock %}",
        encoding="utf-8",
    )
    text = tmp_path / "text.txt"
    text.write_text(TEXT_OK, encoding="utf-8")
    args = ["templates", "set", "--store", store.id, "--key", KEY, "--locale", "fr",
            "--subject", "Votre panier", "--text", str(text)]  # fmt: skip
    refused = CliRunner().invoke(main, [*args, "--html", str(hostile)], env=env)
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.output.split())
    assert "html: template is too expensive to save" in said
    assert f"template runs more than {limits.SAVE_STEPS} loop iterations and calls" in said
    assert service.find_template(
        uow=sqlite_rt.uow(), store_id=store.id, key=KEY, channel="email", locale="fr"
    ) is None  # fmt: skip

    fine = tmp_path / "fine.html"
    fine.write_text(HTML_OK, encoding="utf-8")
    saved = CliRunner().invoke(main, [*args, "--html", str(fine)], env=env)
    assert saved.exit_code == 0, saved.output
    assert "saved abandoned_checkout/reminder (email, fr)" in saved.output
    preview = CliRunner().invoke(
        main, ["templates", "preview", "--store", store.id, "--key", KEY, "--locale", "fr"],
        env=env,
    )  # fmt: skip
    assert preview.exit_code == 0, preview.output
    assert "2 × Sample item" in preview.output
