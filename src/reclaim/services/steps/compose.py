"""Building a queued message for its channel: the context its template is rendered with (the
cart's or order's items with tracked links, totals, coupon, alternatives to what sold out,
delivery promise), then the email, SMS or outgoing webhook itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from email.utils import formataddr

from reclaim.domain.cases import Case
from reclaim.domain.events import LineItem
from reclaim.domain.flows import Step
from reclaim.domain.messages import (
    Channel,
    CouponView,
    DeliveryPromise,
    ItemView,
    MessageContext,
    OutgoingEmail,
    OutgoingSms,
    OutgoingWebhook,
    StoreView,
)
from reclaim.domain.money import amount_text
from reclaim.domain.steps import Coupon, MessageRecord
from reclaim.domain.stores import Store
from reclaim.errors import InvalidInput
from reclaim.services.alternatives import SoldOut, alternative_views, mark_sold_out
from reclaim.services.order_notices import OrderFacts
from reclaim.services.order_view import OrderView, order_view, with_totals
from reclaim.services.ports import Renderer, UnitOfWork
from reclaim.services.steps.model import _Draft, _Prepared
from reclaim.services.tracking import Links, allowed_hosts, item_view
from reclaim.services.what_stopped import answer_links, asks

TEST_MARK = "[TEST] "  # before a test-mode case's subject: nobody takes it for a real one
TEXT_KEPT = 20_000  # characters of a message's plain text kept for the console


def _ready(renderer: Renderer, links: Links, draft: _Draft, now: datetime) -> _Prepared:
    """The queued draft rendered for its channel; a template that cannot render is kept as
    the outcome, to be recorded with the group's answers."""
    step, case, store, spec = draft.work.step, draft.work.case, draft.work.store, draft.work.spec
    message, channel = draft.message, draft.channel
    assert message.id is not None and step.id is not None
    try:
        outgoing, subject, locale = _compose(
            renderer,
            links,
            store,
            case,
            spec,
            message,
            channel,
            draft.coupon,
            draft.promise,
            now,
            draft.sold_out,
            draft.order,
            draft.shown,
            asking=asks(case.kind, draft.work.step.position, channel),
            test=draft.work.test,
        )
    except InvalidInput as exc:  # a merchant's template that cannot render
        return _Prepared(step.id, message.id, channel, exc)
    return _Prepared(
        step.id,
        message.id,
        channel,
        outgoing,
        subject,
        draft.coupon,
        store,
        locale,
        _text_of(outgoing),
    )


def _text_of(outgoing: OutgoingEmail | OutgoingSms | OutgoingWebhook) -> str | None:
    """What the message said, as plain text: the email's text part, the SMS, the webhook's
    ``text`` (its subject, coupon and links are in that text or beside it on the page)."""
    if isinstance(outgoing, OutgoingEmail):
        text: object = outgoing.text
    elif isinstance(outgoing, OutgoingSms):
        text = outgoing.body
    else:
        text = outgoing.payload.get("text")
    return (text[:TEXT_KEPT] or None) if isinstance(text, str) else None


def _compose(
    renderer: Renderer,
    links: Links,
    store: Store,
    case: Case,
    spec: Step,
    message: MessageRecord,
    channel: Channel,
    coupon: Coupon | None,
    promise: DeliveryPromise | None,
    now: datetime,
    sold_out: SoldOut | None = None,
    order: OrderFacts | None = None,
    shown: OrderView | None = None,
    *,
    asking: bool = False,
    test: bool = False,
) -> tuple[OutgoingEmail | OutgoingSms | OutgoingWebhook, str | None, str]:
    """The message for its channel, and the subject and locale to record (the locale the
    message is actually in: the customer's, or the fallback language's where theirs has no
    template). ``asking``: the message asks "What stopped you?" (its answer links). A
    ``test`` case's message is marked: "[TEST] " before its subject (and its SMS text),
    ``"test": true`` in its webhook."""
    assert message.id is not None
    s = store.settings
    hosts = allowed_hosts(store)
    shown = shown or OrderView(order_number=case.order_external_id)
    items, totals = with_totals(
        mark_sold_out(tuple(_item(links, message.id, i, hosts) for i in case.items), sold_out),
        case.value,
        case.currency,
        shown.charges,
    )
    context = MessageContext(
        kind=case.kind,
        step=spec.key,
        locale=message.locale,
        timezone=case.customer_timezone or store.timezone,
        currency=case.currency,
        store=StoreView(
            name=store.name,
            domain=store.domain,
            postal_address=s.postal_address,
            support_email=s.support_email,
            support_phone=s.support_phone,
            logo_url=s.logo_url,
        ),
        first_name=case.contact.first_name,
        items=items,
        totals=totals,
        payment=shown.payment,
        alternatives=alternative_views(links, message.id, sold_out, hosts),
        total=case.value,
        restore_url=links.restore(message.id),
        unsubscribe_url=links.unsubscribe(message.id),
        reason=case.reason if case.kind in ("failed_payment", "shipment_exception") else None,
        order_number=shown.order_number,
        coupon=None if coupon is None else _coupon_view(coupon),
        promise=promise,
        hold_expires_at=None if order is None else order.hold_expires_at,
        items_held=order is not None and order.items_held,
        will_cancel=order is not None and order.will_cancel,
        order_cancelled=order is not None and order.order_cancelled,
        items_released=order is not None and order.items_released,
        now=now,
        answer_links=answer_links(links, message.id, case.id) if asking and case.id else (),
    )
    rendered = renderer.render(
        key=spec.template, channel=channel, context=context, store_id=store.id
    )
    if test:
        rendered = replace(
            rendered,
            subject=TEST_MARK + rendered.subject,
            text=TEST_MARK + rendered.text if channel is Channel.SMS else rendered.text,
        )
    subject = rendered.subject[:500] or None
    locale = (rendered.locale or message.locale)[:16]
    if channel is Channel.EMAIL:
        assert message.header_id is not None
        html = _with_pixel(rendered.html or "", links.open(message.id))
        sender = s.sender_email or f"shop@{store.domain}"
        email = OutgoingEmail(
            to=message.recipient,
            from_address=formataddr((s.sender_name or store.name, sender)),
            subject=rendered.subject,
            text=rendered.text,
            html=html,
            message_id=message.header_id,
            # RFC 8058 one-click only: no mailto, since no mailbox Reclaim reads takes
            # unsubscribe requests (a support inbox would leave them unheeded).
            list_unsubscribe_url=context.unsubscribe_url,
            reply_to=s.reply_to,
            headers=(("X-Reclaim-Message", str(message.id)),),
        )
        return email, subject, locale
    if channel is Channel.SMS:
        sms = OutgoingSms(to=message.recipient, body=rendered.text, sender=s.sms_sender)
        return sms, subject, locale
    webhook = OutgoingWebhook(
        url=message.recipient,
        secret=s.webhook_signing_secret or "",
        payload={
            "type": "reclaim.message",
            "message_id": message.id,
            "case_id": case.id,
            "kind": case.kind,
            "step": spec.key,
            "locale": locale,
            "email": case.email,
            "phone": case.phone,
            "first_name": case.contact.first_name,
            "value": amount_text(case.value, case.currency),
            "currency": case.currency,
            "text": rendered.text,
            "restore_url": context.restore_url,
            "unsubscribe_url": context.unsubscribe_url,
            "coupon": None if coupon is None else coupon.code,
            "subject": subject,
            "items": [_item_payload(i, case.currency) for i in context.items],
            "alternatives": [_item_payload(i, case.currency) for i in context.alternatives],
            "test": test,
        },
    )
    return webhook, subject, locale


def _item_payload(item: ItemView, currency: str) -> dict[str, object]:
    """A cart item or an offered alternative as the outgoing webhook carries it (the link is
    the tracked one; a sold-out item has neither link nor price, as in the email)."""
    return {
        "name": item.name,
        "sku": item.sku,
        "quantity": item.quantity,
        "unit_price": None if item.sold_out else amount_text(item.unit_price, currency),
        "url": None if item.sold_out else item.url,
        "image_url": item.image_url,
        "sold_out": item.sold_out,
    }


def _item(links: Links, message_id: int, item: LineItem, hosts: set[str]) -> ItemView:
    return item_view(
        links,
        message_id,
        hosts,
        name=item.name,
        quantity=item.quantity,
        unit_price=item.unit_price,
        url=item.url,
        image_url=item.image_url,
        sku=item.sku,
        total=item.line_total,
    )


def _view_orders(uow: UnitOfWork, drafts: Sequence[_Draft]) -> None:
    """Each draft's view of its order (its name, charges, how to pay) or of its cart (its
    charges), the group's orders and checkouts read in one query per store each."""
    wanted: dict[str, set[str]] = {}
    carts: dict[str, set[str]] = {}
    for draft in drafts:
        case = draft.work.case
        if case.order_external_id:
            wanted.setdefault(case.store_id, set()).add(case.order_external_id)
        elif case.checkout_external_id:
            carts.setdefault(case.store_id, set()).add(case.checkout_external_id)
    orders = {sid: uow.facts.orders_many(sid, sorted(ext)) for sid, ext in wanted.items()}
    checkouts = {sid: uow.facts.checkouts_many(sid, sorted(ext)) for sid, ext in carts.items()}
    for draft in drafts:
        w = draft.work
        found = orders.get(w.case.store_id, {}).get(w.case.order_external_id or "")
        cart = None
        if found is None and w.case.checkout_external_id:
            cart = checkouts.get(w.case.store_id, {}).get(w.case.checkout_external_id)
        draft.shown = order_view(w.store, w.case, w.spec, found, cart)


def _coupon_view(coupon: Coupon) -> CouponView:
    return CouponView(
        code=coupon.code,
        kind=coupon.kind,
        value=coupon.value,
        currency=coupon.currency,
        expires_at=coupon.expires_at,
        min_order=coupon.min_order,
    )


def _with_pixel(html: str, url: str) -> str:
    pixel = f'<img src="{url}" width="1" height="1" alt="" style="display:block;border:0">'
    at = html.lower().rfind("</body>")
    return html + pixel if at < 0 else html[:at] + pixel + html[at:]
