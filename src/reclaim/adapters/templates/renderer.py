"""Turn a :class:`MessageContext` into a :class:`Rendered` message (SPEC S4).

Templates see the context as plain values only (dicts and tuples of strings, numbers,
``Decimal`` and aware ``datetime``), never the dataclasses, so the sandbox has nothing but data
to look at. Per render a :class:`~.limits.RenderState` carries the customer's formatting locale,
time zone, currency and send time to the formatting helpers and counts the work done, against
the steps, work and wall-clock seconds of a :class:`~.limits.Budget` per part.

:func:`check_cost` is the save-time check: a merchant's template is rendered once for a sample
cart under the much tighter :data:`~.limits.SAVE_BUDGET`, and refused when it goes over.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import Template
from jinja2.exceptions import SecurityError, TemplateError

from reclaim.adapters.templates.compiled import CompiledTemplate
from reclaim.adapters.templates.defaults import defaults
from reclaim.adapters.templates.engines import HTML_LAYOUT, TEXT_LAYOUT, engines
from reclaim.adapters.templates.formatting import (
    TEMPLATE_LOCALES,
    locale_tag,
    message_locale,
    override_locales,
    template_locale,
    text_direction,
    zone,
)
from reclaim.adapters.templates.limits import (
    MAX_OUTPUT,
    MAX_SECONDS,
    SAVE_BUDGET,
    UNTIMED,
    Budget,
    RenderLimit,
    RenderState,
    RenderTimeout,
    rendering,
)
from reclaim.domain.messages import Channel, ItemView, MessageContext, Purpose, Rendered
from reclaim.domain.totals import CartTotals
from reclaim.errors import InvalidInput

Overrides = Callable[[str, str, str, str], CompiledTemplate | None]

_RUNTIME_ERRORS = (
    TemplateError,
    ArithmeticError,
    TypeError,
    ValueError,
    LookupError,
    RecursionError,
)


def template_vars(
    context: MessageContext, labels: Mapping[str, str], written: str | None = None
) -> dict[str, Any]:
    """The variables a template sees: the context's fields as plain values.

    ``written`` is the locale of the template being rendered (default: the default template's
    for the customer); ``locale``, ``lang`` and ``dir`` describe the message as sent, which is
    the template's language when the customer's has no template (:func:`message_locale`).
    """
    store = context.store
    used = message_locale(context.locale, written)
    coupon = context.coupon
    promise = context.promise
    totals, payment = context.totals, context.payment
    purpose = Purpose.MARKETING if context.kind == "abandoned_checkout" else Purpose.TRANSACTIONAL
    return {
        "kind": context.kind,
        "step": context.step,
        "purpose": purpose.value,
        "locale": locale_tag(used),
        "lang": template_locale(locale_tag(used)),
        "dir": text_direction(used),
        "timezone": context.timezone,
        "currency": context.currency,
        "store": {
            "name": store.name,
            "domain": store.domain,
            "postal_address": store.postal_address,
            "support_email": store.support_email,
            "support_phone": store.support_phone,
            "logo_url": store.logo_url,
        },
        "first_name": (context.first_name or "").strip() or None,
        "items": tuple(_item(item) for item in context.items),
        "has_sold_out": any(item.sold_out for item in context.items),
        "alternatives": tuple(_item(item) for item in context.alternatives),
        "total": context.total,
        "restore_url": context.restore_url,
        "unsubscribe_url": context.unsubscribe_url,
        "reason": context.reason,
        "order_number": context.order_number,
        "coupon": None
        if coupon is None
        else {
            "code": coupon.code,
            "kind": coupon.kind,
            "value": coupon.value,
            "currency": coupon.currency,
            "expires_at": coupon.expires_at,
            "min_order": coupon.min_order,
        },
        "promise": None
        if promise is None
        else {
            "origin_country": promise.origin_country,
            "days_min": promise.days_min,
            "days_max": promise.days_max,
            "saving": promise.saving,
            "days_faster": promise.days_faster,
        },
        "hold_expires_at": context.hold_expires_at,
        "items_held": context.items_held,
        "will_cancel": context.will_cancel,
        "order_cancelled": context.order_cancelled,
        "items_released": context.items_released,
        "now": context.now,
        "totals": None if totals is None else _totals(totals),
        "payment": None
        if payment is None
        else {"method": payment.method, "instructions": payment.instructions},
        # "What stopped you?": each answer's reason, signed link and words (the layout shows
        # the question only where there are links: the first email of an abandoned checkout)
        "ask": tuple(
            {"reason": a.reason, "url": a.url, "label": labels.get(f"ask_{a.reason}", a.reason)}
            for a in context.answer_links
        ),
        "labels": labels,
    }


def _totals(totals: CartTotals) -> dict[str, Any]:
    """The rows between the items and the total; zero rows are ``None`` (not shown)."""
    return {
        "discount": totals.discount,
        "shipping": totals.shipping,
        "other": totals.other,
        "tax": totals.tax,
        "tax_included": totals.tax_included,
    }


def _item(item: ItemView) -> dict[str, Any]:
    return {
        "name": item.name,
        "quantity": item.quantity,
        "unit_price": item.unit_price,
        "line_total": item.line_total,
        "image_url": item.image_url,
        "url": item.url,
        "sku": item.sku,
        "sold_out": item.sold_out,
    }


_LINE_BREAKS = re.compile("[ \t\r\n\v\f\x1c-\x1f\x85\u2028\u2029]+")


def one_line(text: str) -> str:
    """Line breaks and space runs as single spaces (no header injection via a subject).

    Non-breaking spaces stay: they keep "10 %" or "Rappel :" together in a subject.
    """
    return _LINE_BREAKS.sub(" ", text).strip()


RLM = "\u200f"  # RIGHT-TO-LEFT MARK


def sms_text(text: str) -> str:
    """One line with every kind of space made plain: GSM-7 has no non-breaking spaces."""
    return " ".join(text.split())


def tidy_text(text: str) -> str:
    """Trailing spaces off, at most one blank line in a row, no blank lines at the ends."""
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if line or (lines and lines[-1]):
            lines.append(line)
    return "\n".join(lines).strip("\n")


class TemplateRenderer:
    """Renders default templates, or a merchant's own where ``overrides`` returns one.

    ``overrides(store_id, key, channel, locale)`` is asked for the locales of
    :func:`~.formatting.override_locales` in turn (de-AT, then de); when it answers ``None``
    for all, the default for the customer's language is used. Thread-safe.

    Each part (subject, text, html) of a merchant's template may take ``time_limit`` seconds
    of wall time (:data:`~.limits.MAX_SECONDS`); a slower one fails with
    :class:`~.limits.RenderTimeout`. The shipped defaults keep every other limit but no clock.
    """

    def __init__(
        self, *, overrides: Overrides | None = None, time_limit: float = MAX_SECONDS
    ) -> None:
        self._overrides = overrides
        self._budget = Budget(seconds=time_limit)

    def keys(self) -> list[str]:
        """Every default template key, e.g. ``abandoned_checkout/reminder``."""
        return list(defaults().keys)

    def locales(self) -> list[str]:
        return list(TEMPLATE_LOCALES)

    def template(
        self, *, key: str, channel: Channel, locale: str, store_id: str | None = None
    ) -> CompiledTemplate:
        """The template :meth:`render` would use (InvalidInput for an unknown key)."""
        if self._overrides is not None and store_id is not None:
            for candidate in override_locales(locale):
                found = self._overrides(store_id, key, channel, candidate)
                if found is not None:
                    if found.key != key or found.channel != channel:
                        raise InvalidInput(
                            f"override for {key} ({channel.value}) is {found.key} ({found.channel.value})",
                            field="template",
                        )
                    return found
        table = defaults().templates
        found = table.get((key, template_locale(locale), channel)) or table.get(
            (key, "en", channel)
        )
        if found is None:
            raise InvalidInput(f"unknown template key {key!r}", field="key")
        return found

    def render(
        self, *, key: str, channel: Channel, context: MessageContext, store_id: str | None = None
    ) -> Rendered:
        """Render ``key`` for ``channel``; raises :class:`InvalidInput` naming the failing part.

        E-mail: subject (one line), plain text and HTML. SMS: ``text`` only, one line, subject
        "". Webhook: the e-mail subject and the SMS text.
        """
        try:
            channel = Channel(channel)
        except ValueError:
            raise InvalidInput(f"unknown channel {channel!r}", field="channel") from None
        compiled = self.template(key=key, channel=channel, locale=context.locale, store_id=store_id)
        budget = UNTIMED if _is_default(compiled) else self._budget
        return _render_parts(compiled, channel, context, budget)


def _is_default(compiled: CompiledTemplate) -> bool:
    return defaults().templates.get((compiled.key, compiled.locale, compiled.channel)) is compiled


def _warm_layouts() -> None:
    """Compile the shared layouts (once per process) before a part's clock starts."""
    env = engines()
    env.html.get_template(HTML_LAYOUT)
    env.text.get_template(TEXT_LAYOUT)


def check_cost(
    compiled: CompiledTemplate | Mapping[str, Any],
    context: MessageContext,
    *,
    budget: Budget = SAVE_BUDGET,
) -> None:
    """Refuse a merchant's template that costs too much to render (the save-time check).

    ``compiled`` (as :func:`~.compiled.compile_template` returned it, or its JSON, parsed) is
    rendered for ``context``, a sample cart, under ``budget`` (:data:`~.limits.SAVE_BUDGET`: a
    small fraction of the steps, work and time a send may take). Going over raises
    :class:`InvalidInput` naming the part ("html: template is too expensive to save …").
    Other errors are left to the send, where they fail that message as they always did; each
    part is tried on its own, so one that fails on the sample does not hide the others' cost.

    The clock only runs once the caches are warm (the layouts, the locale's data, through the
    shipped template for the same key), and a part that is only over on time gets a second
    try: one busy moment of the machine is not the template's cost.
    """
    if not isinstance(compiled, CompiledTemplate):
        compiled = CompiledTemplate.from_json(compiled)
    try:
        TemplateRenderer().render(key=compiled.key, channel=compiled.channel, context=context)
    except InvalidInput:
        _warm_layouts()  # a key of the merchant's own, without a default
    variables, settings = _inputs(context, budget, compiled.locale)
    parts = [("subject", compiled.subject, False), ("text", compiled.text, False)]
    if compiled.html is not None:
        parts.append(("html", compiled.html, True))
    for field, source, html in parts:
        try:
            try:
                _render(field, source, html, variables, settings)
            except RenderTimeout:
                _render(field, source, html, variables, settings)
        except RenderLimit as exc:
            reason = str(exc).removeprefix(f"{field}: ")
            raise InvalidInput(
                f"{field}: template is too expensive to save (rendered for a sample cart of "
                f"{len(context.items)} items, it must stay well within what a send may cost): "
                f"{reason}",
                field=field,
            ) from None
        except InvalidInput:
            continue  # not a matter of cost: fails on this sample's data, not for its size


def _inputs(
    context: MessageContext, budget: Budget, written: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The template's variables, and the :class:`RenderState` settings of each part.

    Words (labels) and formatting come from the same locale, the one the message is written
    in (``written``, the template's), never the customer's where that differs in language.
    """
    used = message_locale(context.locale, written)
    labels = defaults().labels[template_locale(locale_tag(used))]
    settings = {
        "locale": used,
        "tz": zone(context.timezone),
        "currency": context.currency,
        "now": context.now,
        "budget": budget,
    }
    return template_vars(context, labels, written), settings


def _render_parts(
    compiled: CompiledTemplate, channel: Channel, context: MessageContext, budget: Budget
) -> Rendered:
    variables, settings = _inputs(context, budget, compiled.locale)
    used = variables["locale"]
    _warm_layouts()
    if channel is Channel.EMAIL:
        html = compiled.html
        if html is None:
            raise InvalidInput(f"template {compiled.key} has no HTML part", field="html")
        return Rendered(
            subject=one_line(_render("subject", compiled.subject, False, variables, settings)),
            text=tidy_text(_render("text", compiled.text, False, variables, settings)),
            html=_render("html", html, True, variables, settings).strip(),
            locale=used,
        )
    text = sms_text(_render("text", compiled.text, False, variables, settings))
    if variables["dir"] == "rtl" and text:
        # A phone sets a message's direction from its first strong letter: an Arabic SMS
        # that opens with a Latin store name would read left to right. The right-to-left
        # mark (U+200F, invisible) makes it read as written (the webhook's text is the SMS).
        text = RLM + text
    if channel is Channel.SMS:
        return Rendered(subject="", text=text, locale=used)
    subject = one_line(_render("subject", compiled.subject, False, variables, settings))
    return Rendered(subject=subject, text=text, locale=used)


def _render(
    field: str, source: str, html: bool, variables: dict[str, Any], settings: dict[str, Any]
) -> str:
    try:
        template: Template = engines().template(source, html=html)
    except TemplateError as exc:
        raise InvalidInput(
            f"{field}: stored template does not compile: {exc}", field=field
        ) from None
    chunks: list[str] = []
    size = 0
    try:
        with rendering(RenderState(**settings)):
            for chunk in template.generate(variables):
                size += len(chunk)
                if size > MAX_OUTPUT:
                    raise RenderLimit(f"template output is larger than {MAX_OUTPUT} characters")
                chunks.append(chunk)
    except RenderLimit as exc:
        raise type(exc)(f"{field}: {exc}", field=field) from None
    except InvalidInput as exc:
        raise InvalidInput(f"{field}: {exc}", field=field) from None
    except SecurityError as exc:
        raise InvalidInput(
            f"{field}: template is not allowed to do this: {exc}", field=field
        ) from None
    except _RUNTIME_ERRORS as exc:
        raise InvalidInput(f"{field}: template failed: {exc}", field=field) from None
    return "".join(chunks)
