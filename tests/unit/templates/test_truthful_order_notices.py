"""The pending order's default messages state only what Reclaim did or will do (issue 14), in
every locale: each of the facts the flow engine passes (``items_held``, ``will_cancel``,
``order_cancelled``, ``items_released``) changes what is said, and none is claimed unset."""

from __future__ import annotations

import itertools
import re

import pytest
from template_helpers import RESTORE, for_key, full_context

from reclaim.adapters.templates import TemplateRenderer
from reclaim.domain.messages import Channel, MessageContext

LOCALES = ["en", "de", "fr", "es", "zh-CN", "ja", "it", "nl", "pt-BR", "pl", "ko", "ar"]
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)
JINJA_LEFTOVER = re.compile(r"\{\{|\{%|\}\}|%\}")
# How each locale says "it was cancelled" (not "it may be"): only when it is true.
CANCELLED = {
    "en": ("has been cancelled", "was cancelled"),
    "de": ("wurde",),
    "fr": ("a été annulée",),
    "es": ("ha sido cancelado",),
    "zh-CN": ("已取消",),
    "ja": ("キャンセルされました",),
    "it": ("è stato annullato",),
    "nl": ("is geannuleerd",),
    "pt-BR": ("foi cancelado",),
    "pl": ("zostało anulowane",),
    "ko": ("취소되었습니다",),
    "ar": ("تم إلغاء",),
}


def claims_cancelled(locale: str, text: str) -> bool:
    return any(words in text for words in CANCELLED[locale])


def context(key: str, locale: str, **facts: bool) -> MessageContext:
    """Everything set but the order's facts: only those in ``facts`` are true."""
    unset = dict.fromkeys(("items_held", "will_cancel", "order_cancelled", "items_released"), False)
    return for_key(full_context(locale=locale, **{**unset, **facts}), key)


def render_all(renderer: TemplateRenderer, key: str, ctx: MessageContext) -> tuple[str, str, str]:
    email = renderer.render(key=key, channel=Channel.EMAIL, context=ctx)
    sms = renderer.render(key=key, channel=Channel.SMS, context=ctx)
    for text in (email.subject, email.text, email.html or "", sms.text):
        assert not JINJA_LEFTOVER.search(text) and "None" not in text
    assert sms.text.endswith(RESTORE) and len(sms.text) <= 160, sms.text
    if ctx.locale in ("en", "de", "fr", "it", "nl"):
        assert set(sms.text) <= GSM7, set(sms.text) - GSM7
    return email.subject, email.text, sms.text


@pytest.mark.parametrize("locale", LOCALES)
def test_the_notice_says_cancelled_only_when_the_platform_cancelled_it(
    renderer: TemplateRenderer, locale: str
) -> None:
    key = "pending_order/cancelled"
    said = {
        facts: render_all(
            renderer,
            key,
            context(key, locale, order_cancelled=facts[0], items_released=facts[1]),
        )
        for facts in itertools.product([True, False], repeat=2)
    }
    assert len({text for _, text, _ in said.values()}) == 4  # each fact changes the text
    assert len({sms for _, _, sms in said.values()}) == 3  # a cancelled one's is short
    for (cancelled, _), (subject, _, sms) in said.items():
        assert claims_cancelled(locale, subject) is cancelled, subject
        assert claims_cancelled(locale, sms) is cancelled, sms


@pytest.mark.parametrize("locale", LOCALES)
def test_the_reminders_speak_of_holding_and_cancelling_only_when_true(
    renderer: TemplateRenderer, locale: str
) -> None:
    for key in ("pending_order/reminder", "pending_order/reminder_2"):
        held = render_all(renderer, key, context(key, locale, items_held=True))
        bare = render_all(renderer, key, context(key, locale, will_cancel=True))
        assert held[1] != bare[1] and held[2] != bare[2]
        assert bare == render_all(renderer, key, context(key, locale))  # no hold: not said
    key = "pending_order/last_call"
    said = {
        facts: render_all(
            renderer, key, context(key, locale, will_cancel=facts[0], items_held=facts[1])
        )
        for facts in itertools.product([True, False], repeat=2)
    }
    assert len({text for _, text, _ in said.values()}) == 4
    assert said[(True, True)][0] == said[(True, False)][0]  # "will be cancelled soon"
    assert said[(False, True)][0] == said[(False, False)][0] != said[(True, False)][0]


def test_english_wording(renderer: TemplateRenderer) -> None:
    def email(key: str, **facts: bool) -> tuple[str, str]:
        subject, text, _ = render_all(renderer, key, context(key, "en", **facts))
        return subject, " ".join(text.split())

    subject, text = email("pending_order/cancelled")
    assert subject == "Your order #1042 is still unpaid"
    assert (
        "We have not received payment for your order #1042 at Maison Lumière. The order is "
        "still unpaid and may be cancelled. Still interested? The button below takes you to "
        "your order." in text
    )
    _, text = email("pending_order/cancelled", items_released=True)
    assert (
        "at Maison Lumière. We have released the items we were holding for you, so they are no "
        "longer reserved. The order is still unpaid and may be cancelled." in text
    )
    subject, text = email("pending_order/cancelled", order_cancelled=True)
    assert subject == "Your order #1042 has been cancelled"
    assert "so we have cancelled it. You will not be charged." in text
    _, text = email("pending_order/cancelled", order_cancelled=True, items_released=True)
    assert "so we have cancelled it and released the items we were holding." in text

    subject, text = email("pending_order/last_call")
    assert subject == "Last reminder: payment for your order #1042"
    assert "cancel" not in text and "holding" not in text
    subject, text = email("pending_order/last_call", will_cancel=True)
    assert subject == "Last reminder: your order #1042 will be cancelled soon"
    assert "we will have to cancel the order. It only takes" in text
    _, text = email("pending_order/last_call", items_held=True)
    assert "We are holding your items for you until May 6, 2026, 11:00 AM." in text
    assert "cancel" not in text
    _, text = email("pending_order/last_call", will_cancel=True, items_held=True)
    assert "cancel the order and release the items we are holding for you." in text
