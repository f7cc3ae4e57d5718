"""A store's own e-mail template is refused when saved unless, rendered for the sample cart,
it shows a visible unsubscribe link and the postal address in its HTML and its text part
(the sender's duties: CAN-SPAM, ePrivacy). What the layout adds counts; what the template
hides does not. The error names the part."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from reclaim.adapters.templates import compile_template
from reclaim.adapters.templates.duties import check_duties
from reclaim.bootstrap import check_template_cost
from reclaim.domain.messages import Channel, StoreView
from reclaim.errors import InvalidInput
from reclaim.services.templates import cost_sample

NOW = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
KEY = "abandoned_checkout/reminder"
ADDRESS = "Maison Lumière SAS, 12 Rue du Faubourg, 75010 Paris"
STORE = StoreView(name="Maison Lumière", domain="boutique.example", postal_address=ADDRESS)
SAMPLE = cost_sample(
    key=KEY, locale="en", store=STORE, public_url="https://reclaim.example", now=NOW
)

LINK = '<a href="{{ unsubscribe_url }}">Unsubscribe</a>'
POSTAL = "<p>{{ store.postal_address }}</p>"
TEXT = "Your cart: {{ restore_url }}\n{{ store.postal_address }}\nStop: {{ unsubscribe_url }}"


def html_page(body: str) -> str:
    return f"<html><head><title>{{{{ store.name }}}}</title></head><body>{body}</body></html>"


def check(html: str, text: str = TEXT) -> None:
    compiled = compile_template(
        key=KEY, locale="en", channel=Channel.EMAIL, subject="Your cart", html=html, text=text
    )
    check_duties(json.loads(compiled.to_json()), SAMPLE)  # as stored


def refused(html: str, text: str = TEXT) -> str:
    with pytest.raises(InvalidInput) as caught:
        check(html, text)
    return f"{caught.value.field}| {caught.value}"


def test_templates_that_show_both_are_saved() -> None:
    check(html_page(f"<p>Hi</p>{POSTAL}<p>{LINK}</p>"))
    # the layouts' footers carry both
    check(
        '{% extends "layout.html" %}{% block content %}<p>Hi</p>{% endblock %}',
        '{% extends "layout.txt" %}{% block content %}Hi{% endblock %}',
    )


@pytest.mark.parametrize(
    "html",
    [
        html_page(f"{POSTAL}<p>{{{{ unsubscribe_url }}}}</p>"),  # shown, but not a link
        html_page(f'{POSTAL}<!-- <a href="{{{{ unsubscribe_url }}}}">x</a> -->'),  # a comment
        html_page(f'{POSTAL}<div style="display: none">{LINK}</div>'),
        html_page(f'{POSTAL}<p style="visibility:hidden">{LINK}</p>'),
        html_page(f"{POSTAL}<p hidden>{LINK}</p>"),
        html_page(f'{POSTAL}<a href="{{{{ unsubscribe_url }}}}"></a>'),  # a link with no words
        html_page(f"{POSTAL}{{% if false %}}{LINK}{{% endif %}}"),  # never rendered
    ],
)
def test_an_unsubscribe_link_no_reader_sees_is_refused(html: str) -> None:
    assert refused(html).startswith("html| html: shows no unsubscribe link a reader can see")


@pytest.mark.parametrize(
    "html",
    [
        html_page(f"<p>{LINK}</p><!-- {{{{ store.postal_address }}}} -->"),
        html_page(f'<p>{LINK}</p><span style="font-size:0">{{{{ store.postal_address }}}}</span>'),
        html_page(f"<p>{LINK}</p>{{% if not store %}}{POSTAL}{{% endif %}}"),
    ],
)
def test_a_postal_address_no_reader_sees_is_refused(html: str) -> None:
    assert refused(html).startswith("html| html: does not show the store's postal address")


def test_the_text_part_needs_both_too() -> None:
    html = html_page(f"{POSTAL}<p>{LINK}</p>")
    no_link = "{{ store.postal_address }} {% if false %}{{ unsubscribe_url }}{% endif %}"
    assert refused(html, no_link).startswith("text| text: has no unsubscribe link")
    no_address = "{% if false %}{{ store.postal_address }}{% endif %}{{ unsubscribe_url }}"
    assert refused(html, no_address).startswith("text| text: does not show the store's postal")


def test_sms_templates_are_not_emails() -> None:
    text = "Cart: {{ restore_url }}"
    sms = compile_template(
        key=KEY, locale="en", channel=Channel.SMS, subject="", html=None, text=text
    )
    check_duties(sms, SAMPLE)


def test_the_save_time_check_runs_it() -> None:
    compiled = compile_template(
        key=KEY,
        locale="en",
        channel=Channel.EMAIL,
        subject="Your cart",
        html=html_page(f"{POSTAL}<p hidden>{LINK}</p>"),
        text=TEXT,
    )
    with pytest.raises(InvalidInput) as caught:
        check_template_cost(json.loads(compiled.to_json()), SAMPLE)
    assert caught.value.field == "html"
