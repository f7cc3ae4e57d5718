""" "What stopped you?" in the layout (issue 15): shown in every template language, in the HTML
and the plain-text part, only where the context has answer links; never in an SMS."""

from __future__ import annotations

from dataclasses import replace

import pytest
from template_helpers import for_key, full_context
from test_template_locales import ALL_LOCALES, data

from reclaim.adapters.templates import TemplateRenderer
from reclaim.adapters.templates.pages import page_words
from reclaim.domain.messages import AnswerLink, Channel

KEY = "abandoned_checkout/reminder"
REASONS = ("extra_costs", "delivery_too_slow", "payment_methods", "just_browsing", "other")
LINKS = tuple(AnswerLink(r, f"https://links.boutique.example/a/{r}.tok") for r in REASONS)
ASK_LABELS = ("ask_question", *(f"ask_{r}" for r in REASONS))
PAGE_KEYS = ("answer_title", "answer_thanks", "answer_more", "answer_button", "answer_sent")


@pytest.mark.parametrize("locale", ALL_LOCALES)
def test_the_question_is_asked_in_every_language(renderer: TemplateRenderer, locale: str) -> None:
    labels = data(locale)["labels"]
    context = for_key(replace(full_context(locale=locale), answer_links=LINKS), KEY)
    rendered = renderer.render(key=KEY, channel=Channel.EMAIL, context=context)
    html, text = rendered.html or "", rendered.text
    assert labels["ask_question"] in text
    for link in LINKS:
        label = labels[f"ask_{link.reason}"]
        assert f"- {label}{labels['colon']}{link.url}\n" in text + "\n", (locale, label)
        assert f'href="{link.url}"' in html and f">{label}</a>" in html, (locale, label)
    # After the button, before the footer.
    assert text.index(labels["ask_question"]) > text.index(context.restore_url)
    assert text.index(labels["ask_question"]) < text.index(context.unsubscribe_url)
    sms = renderer.render(key=KEY, channel=Channel.SMS, context=context)
    assert "/a/" not in sms.text


@pytest.mark.parametrize("locale", ALL_LOCALES)
def test_no_links_no_question(renderer: TemplateRenderer, locale: str) -> None:
    rendered = renderer.render(
        key=KEY, channel=Channel.EMAIL, context=for_key(full_context(locale=locale), KEY)
    )
    question = data(locale)["labels"]["ask_question"]
    assert question not in rendered.text and question not in (rendered.html or "")
    assert 'class="ask' not in (rendered.html or "")


@pytest.mark.parametrize("locale", [loc for loc in ALL_LOCALES if loc != "en"])
def test_the_words_are_the_languages_own(locale: str) -> None:
    english, mine = data("en"), data(locale)
    for name in ASK_LABELS:
        assert mine["labels"][name] and mine["labels"][name] != english["labels"][name], name
    words = page_words(locale).words
    for name in PAGE_KEYS:
        assert words[name] and words[name] != english["page"][name], name
    assert "%(store)s" in words["answer_thanks"] and "%(store)s" in words["answer_sent"]
