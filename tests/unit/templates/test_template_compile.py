"""Saving a merchant's template: validation, CSS inlined once with Jinja tags intact, storage."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import pytest
from template_helpers import ADDRESS, RESTORE, UNSUBSCRIBE, Overrides, for_key, full_context

from reclaim.adapters.templates import (
    CompiledTemplate,
    TemplateRenderer,
    compile_template,
    inlining,
)
from reclaim.adapters.templates import defaults as defaults_module
from reclaim.adapters.templates import engines as engines_module
from reclaim.adapters.templates.inlining import inline_css
from reclaim.domain.messages import Channel
from reclaim.errors import InvalidInput

CHILD_HTML = """{% extends "layout.html" %}
{% block heading %}Still thinking it over, {{ first_name or "friend" }}?{% endblock %}
{% block content %}
<p>Your {{ items|length }} items at {{ store.name }} are waiting.</p>
{% if coupon %}<div class="coupon"><span class="coupon-code">{{ coupon.code }}</span></div>{% endif %}
{% endblock %}
{% block cta_label %}Back to my cart{% endblock %}
"""
CHILD_TEXT = """{% extends "layout.txt" %}
{% block heading %}Still thinking it over?{% endblock %}
{% block content %}Your {{ items|length }} items at {{ store.name }} are waiting.{% endblock %}
{% block cta_label %}Back to my cart{% endblock %}
"""


def email(**parts: str | None) -> CompiledTemplate:
    fields: dict[str, str | None] = {
        "subject": "Your cart, {{ first_name }}",
        "html": CHILD_HTML,
        "text": CHILD_TEXT,
    }
    fields.update(parts)
    return compile_template(
        key="abandoned_checkout/reminder",
        locale="en",
        channel=Channel.EMAIL,
        subject=fields["subject"],  # type: ignore[arg-type]
        html=fields["html"],
        text=fields["text"],  # type: ignore[arg-type]
    )


def test_a_merchant_child_of_the_layout_is_inlined_and_rendered() -> None:
    compiled = email()
    assert compiled.html is not None
    assert (
        '<p style="margin: 0 0 16px 0;">Your {{ items|length }} items at {{ store.name }} are waiting.</p>'
        in compiled.html
    )
    assert (
        '{% if coupon %}<div class="coupon" style="margin: 0 0 16px 0;padding: 16px;text-align: center;'
        in compiled.html
    )
    assert '<span class="coupon-code" style="color: #1d4ed8;' in compiled.html
    assert compiled.text == CHILD_TEXT  # text is never touched
    renderer = TemplateRenderer(overrides=Overrides(compiled))
    rendered = renderer.render(
        key="abandoned_checkout/reminder",
        channel=Channel.EMAIL,
        context=full_context(),
        store_id="s1",
    )
    assert rendered.subject == "Your cart, Anna"
    html = rendered.html or ""
    assert "Still thinking it over, Anna?</h1>" in html
    assert '<p style="margin: 0 0 16px 0;">Your 2 items at Maison Lumière are waiting.</p>' in html
    assert f'<a class="button" href="{RESTORE}" style="' in html and ">Back to my cart</a>" in html
    assert UNSUBSCRIBE in html and ADDRESS in html
    assert (
        "Still thinking it over?\n\nHello Anna,\n\nYour 2 items at Maison Lumière are waiting."
        in rendered.text
    )
    assert f"Back to my cart\n{RESTORE}" in rendered.text


def test_inlining_keeps_template_syntax_everywhere_it_can_stand() -> None:
    source = """<!DOCTYPE html>
<html lang="{{ locale }}"><head><title>{{ store.name }} & co</title>
<style>td { padding: 4px; } .price { color: #111; } @media (max-width: 600px) { td { padding: 0 !important; } }</style>
</head><body>
{# a comment with "quotes" and <tags> #}
<p class="price" title="{{ "quoted" ~ ' both' }}">{{ a < b }} {% if x > 3 and y < 2 %}big{% endif %}</p>
<table><tbody>{% for item in items %}<tr><td class="price">{{ item.name }}</td></tr>{% endfor %}</tbody></table>
<a href={{ restore_url }} class="{% if coupon %}hot{% endif %}">go</a>
<!--[if mso]>{{ store.name }}<![endif]-->
{% raw %}{{ not a tag }}{% endraw %}
{{ unsubscribe_url }} {{ store.postal_address }}
</body></html>"""
    inlined = inline_css(source)
    assert "<title>{{ store.name }} &amp; co</title>" in inlined
    assert '{# a comment with "quotes" and <tags> #}' in inlined
    assert (
        '<p class="price" title="{{ "quoted" ~ \' both\' }}" style="color: #111;">{{ a < b }} {% if x > 3 and y < 2 %}big{% endif %}</p>'
        in inlined
    )
    assert (
        '<table><tbody>{% for item in items %}<tr><td class="price" style="padding: 4px;color: #111;">{{ item.name }}</td></tr>{% endfor %}</tbody></table>'
        in inlined
    )
    assert (
        'href="{{ restore_url }}"' in inlined and 'class="{% if coupon %}hot{% endif %}"' in inlined
    )
    assert "<!--[if mso]>{{ store.name }}<![endif]-->" in inlined
    assert "{% raw %}{{ not a tag }}{% endraw %}" in inlined
    assert "<style>@media (max-width: 600px)" in inlined and "td { padding: 4px; }" not in inlined


def test_no_tbody_is_slipped_into_a_loop_over_rows() -> None:
    source = '<table>{% for item in items %}<tr><td class="n">{{ loop.index }}</td></tr>{% endfor %}</table>'
    assert inline_css(source, extra_css=".n { color: red; }") == (
        '<table>{% for item in items %}<tr><td class="n" style="color: red;">{{ loop.index }}</td></tr>'
        "{% endfor %}</table>"
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "<style>p { color: {{ colour }}; }</style><p>x</p>",
            "html: line 1: template tags inside <style> cannot be inlined",
        ),
        (
            '<p\n{% if x %}class="a"{% endif %}>x</p>',
            "html: line 2: template tags between attributes cannot be kept in place",
        ),
        (
            "<table><tbody><tr><td>1</td></tr></tbody></table><table>{% for r in x %}<tr><td>2</td></tr>{% endfor %}</table>",
            "html: write <tbody> in every table or in none",
        ),
    ],
)
def test_markup_the_inliner_cannot_keep_is_refused(source: str, message: str) -> None:
    with pytest.raises(InvalidInput) as error:
        inline_css(source)
    assert str(error.value).startswith(message)
    assert error.value.field == "html"


@pytest.mark.parametrize(
    ("parts", "field", "message"),
    [
        ({"subject": "Hi {{ first_name"}, "subject", "subject: line 1: unexpected end of template"),
        (
            {
                "html": '{% extends "layout.html" %}\n{% block content %}\n<p>{{ x }</p>\n{% endblock %}'
            },
            "html",
            "html: line 3: unexpected '}'",
        ),
        (
            {"text": '{% extends "layout.txt" %}\n\n{% block content %}{% if x %}{% endblock %}'},
            "text",
            "text: line 3: Encountered unknown tag 'endblock'.",
        ),
        (
            {"text": '{% extends "layout.txt" %}\n{% if x %}{{ y|nosuch }}{% endif %}'},
            "text",
            "text: line 2: no filter named 'nosuch'",
        ),
        (
            {"text": '{% extends "layout.txt" %}{{ y is nosuch }}'},
            "text",
            "text: line 1: no test named 'nosuch'",
        ),
        (
            {"html": '{% extends "other.html" %}'},
            "html",
            "html: line 1: may only extend or include layout.html",
        ),
        (
            {"html": '{% extends "layout.txt" %}'},
            "html",
            "html: line 1: may only extend or include layout.html",
        ),
        (
            {"text": "{% extends name %}"},
            "text",
            "text: line 1: may only extend or include layout.txt",
        ),
        (
            {"subject": '{% include "layout.txt" %}'},
            "subject",
            "subject: line 1: may only extend or include nothing",
        ),
        (
            {
                "text": "{% for x in y recursive %}{{ loop(x) }}{% endfor %}{{ unsubscribe_url }}{{ store.postal_address }}"
            },
            "text",
            "text: line 1: recursive loops are not allowed in templates",
        ),
        (
            {"html": "<p>Hello</p>"},
            "html",
            'html: must extend "layout.html" or show {{ unsubscribe_url }} and {{ store.postal_address }}',
        ),
        (
            {"text": "Hello {{ unsubscribe_url }}"},
            "text",
            'text: must extend "layout.txt" or show {{ unsubscribe_url }}',
        ),
        ({"html": ""}, "html", "html: an e-mail needs an HTML part"),
        ({"html": None}, "html", "html: an e-mail needs an HTML part"),
        ({"text": "x" * 300_000}, "text", "text: is longer than 262144 characters"),
        ({"subject": 42}, "subject", "subject: must be text"),
    ],
)
def test_compile_refuses_with_field_and_line(
    parts: dict[str, str], field: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        email(**parts)
    assert error.value.field == field
    assert str(error.value).startswith(message), str(error.value)


def test_a_self_contained_email_may_skip_the_layout() -> None:
    html = (
        "<html><head><style>.foot { color: #777; }</style></head><body><p>Hi</p>"
        '<p class="foot">{{ store.postal_address }} <a href="{{ unsubscribe_url }}">Stop</a></p></body></html>'
    )
    compiled = email(html=html, text="Hi\n{{ store.postal_address }}\n{{ unsubscribe_url }}")
    assert (
        '<p class="foot" style="color: #777;">{{ store.postal_address }} <a href="{{ unsubscribe_url }}">Stop</a></p>'
        in (compiled.html or "")
    )


def test_key_locale_and_channel_are_checked_and_normalised() -> None:
    for key in ("", "reminder", "Abandoned/Reminder", "a/b/c", "x" * 50 + "/y"):
        with pytest.raises(InvalidInput) as error:
            compile_template(
                key=key, locale="en", channel=Channel.SMS, subject="", html=None, text="x"
            )
        assert error.value.field == "key"
    for locale in ("", "xx", "english", "de-DE-!!", "12"):
        with pytest.raises(InvalidInput) as error:
            compile_template(
                key="a/b", locale=locale, channel=Channel.SMS, subject="", html=None, text="x"
            )
        assert error.value.field == "locale", locale
    with pytest.raises(InvalidInput) as error:
        compile_template(key="a/b", locale="en", channel="fax", subject="", html=None, text="x")  # type: ignore[arg-type]
    assert error.value.field == "channel"
    with pytest.raises(InvalidInput) as error:
        compile_template(
            key="a/b", locale="en", channel=Channel.SMS, subject="", html="<p>x</p>", text="x"
        )
    assert str(error.value) == "html: sms templates have no HTML part"
    compiled = compile_template(
        key="a/b", locale="de_at", channel=Channel.SMS, subject="", html=None, text="x"
    )
    assert compiled.locale == "de-AT"


def test_compiled_templates_round_trip_through_json() -> None:
    compiled = email()
    stored = compiled.to_json()
    assert json.loads(stored)["format"] == 1
    assert CompiledTemplate.from_json(stored) == compiled
    assert CompiledTemplate.from_json(stored.encode()) == compiled
    assert CompiledTemplate.from_json(json.loads(stored)) == compiled
    assert len(compiled.source_digest) == 64
    assert email().source_digest == compiled.source_digest
    assert email(subject="Other {{ first_name }}").source_digest != compiled.source_digest
    for bad in ("not json", "[]", json.dumps({"format": 2}), stored.replace('"email"', '"fax"')):
        with pytest.raises(InvalidInput):
            CompiledTemplate.from_json(bad)


def test_overrides_are_asked_from_the_specific_locale_down_then_defaults_apply() -> None:
    german = compile_template(
        key="abandoned_checkout/reminder",
        locale="de",
        channel=Channel.SMS,
        subject="",
        html=None,
        text="Eigener Text {{ restore_url }}",
    )
    overrides = Overrides(german)
    renderer = TemplateRenderer(overrides=overrides)
    key = "abandoned_checkout/reminder"
    rendered = renderer.render(
        key=key, channel=Channel.SMS, context=full_context(locale="de-AT"), store_id="s1"
    )
    assert rendered.text == f"Eigener Text {RESTORE}"
    assert overrides.asked == [("s1", key, Channel.SMS, "de-AT"), ("s1", key, Channel.SMS, "de")]
    overrides.asked.clear()
    french = renderer.render(
        key=key, channel=Channel.SMS, context=full_context(locale="fr-FR"), store_id="s1"
    )
    assert french.text.startswith("Maison Lumière : vous avez laissé des articles")  # the default
    assert overrides.asked == [("s1", key, Channel.SMS, "fr-FR"), ("s1", key, Channel.SMS, "fr")]
    no_store = renderer.render(key=key, channel=Channel.SMS, context=full_context(locale="de"))
    assert no_store.text.startswith("Maison Lumière: Ihr Warenkorb ist noch gespeichert.")


def test_custom_keys_need_an_override_and_mismatches_are_refused() -> None:
    custom = compile_template(
        key="abandoned_checkout/extra_nudge",
        locale="en",
        channel=Channel.SMS,
        subject="",
        html=None,
        text="Nudge {{ restore_url }}",
    )
    renderer = TemplateRenderer(overrides=Overrides(custom))
    context = for_key(full_context(), "abandoned_checkout/extra_nudge")
    assert (
        renderer.render(
            key="abandoned_checkout/extra_nudge",
            channel=Channel.SMS,
            context=context,
            store_id="s1",
        ).text
        == f"Nudge {RESTORE}"
    )
    with pytest.raises(InvalidInput):
        renderer.render(key="abandoned_checkout/extra_nudge", channel=Channel.SMS, context=context)
    liar = TemplateRenderer(overrides=lambda store, key, channel, locale: custom)
    with pytest.raises(InvalidInput) as error:
        liar.render(
            key="abandoned_checkout/reminder",
            channel=Channel.SMS,
            context=full_context(),
            store_id="s1",
        )
    assert error.value.field == "template"


def test_a_stored_template_that_no_longer_compiles_fails_at_send_naming_the_part() -> None:
    broken = CompiledTemplate(
        key="abandoned_checkout/reminder",
        locale="en",
        channel=Channel.SMS,
        subject="",
        html=None,
        text="{{ oops",
        source_digest="0" * 64,
    )
    renderer = TemplateRenderer(overrides=Overrides(broken))
    with pytest.raises(InvalidInput) as error:
        renderer.render(
            key="abandoned_checkout/reminder",
            channel=Channel.SMS,
            context=full_context(),
            store_id="s1",
        )
    assert error.value.field == "text"
    assert str(error.value).startswith("text: stored template does not compile:")


@pytest.fixture
def counted_inlining(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Count CSS inlining calls from cold caches; leave cold caches behind."""
    calls: list[str] = []
    real: Callable[..., str] = inlining.inline_css

    def counting(source: str, **kwargs: str) -> str:
        calls.append(source)
        return real(source, **kwargs)

    engines_module._reset()
    defaults_module._reset()
    monkeypatch.setattr(inlining, "inline_css", counting)
    yield calls
    monkeypatch.undo()
    engines_module._reset()
    defaults_module._reset()


@pytest.mark.slow  # renders every default email in every locale four times
def test_defaults_are_inlined_once_per_process_and_jinja_templates_reused(
    counted_inlining: list[str],
) -> None:
    renderer = TemplateRenderer()
    assert counted_inlining == []  # nothing happens before the first use
    keys, locales = renderer.keys(), renderer.locales()
    for locale in locales:
        for key in keys:
            renderer.render(
                key=key, channel=Channel.EMAIL, context=for_key(full_context(locale=locale), key)
            )
    # One layout plus one HTML child per key and locale.
    assert len(counted_inlining) == 1 + 11 * 12
    html_cache = engines_module.engines().html_template.cache_info()
    compiled_before = html_cache.misses
    for _ in range(3):
        for locale in locales:
            for key in keys:
                TemplateRenderer().render(
                    key=key,
                    channel=Channel.EMAIL,
                    context=for_key(full_context(locale=locale), key),
                )
    assert len(counted_inlining) == 1 + 11 * 12
    assert engines_module.engines().html_template.cache_info().misses == compiled_before
    assert engines_module.engines().html_template.cache_info().hits >= 360


def test_render_throughput_is_measured(renderer: TemplateRenderer) -> None:
    context = for_key(full_context(locale="de-DE"), "abandoned_checkout/help")
    renderer.render(key="abandoned_checkout/help", channel=Channel.EMAIL, context=context)  # warm
    count = 300
    started = time.perf_counter()
    for _ in range(count):
        rendered = renderer.render(
            key="abandoned_checkout/help", channel=Channel.EMAIL, context=context
        )
    elapsed = time.perf_counter() - started
    print(f"\nabandoned_checkout/help e-mail (de-DE, 2 items): {count / elapsed:.0f} renders/s")
    assert rendered.html is not None and RESTORE in rendered.html
