"""What a recovery message is made of, independent of how it is rendered or sent (SPEC S4).

The step engine (``services/steps/``) builds a :class:`MessageContext` from a case, its
store and its incentive; a template renderer turns it into a :class:`Rendered`; a channel
adapter sends an :class:`OutgoingEmail`, :class:`OutgoingSms` or :class:`OutgoingWebhook` and
answers a :class:`SendResult` or raises :class:`reclaim.errors.DeliveryError`.

Amounts stay ``Decimal`` with their currency and times stay aware UTC here: formatting them in
the customer's locale and time zone is the renderer's job (Babel lives in adapters).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from reclaim.domain.totals import CartTotals


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"


class Purpose(StrEnum):
    """Marketing reminders need consent where the law says so; transactional notices don't."""

    MARKETING = "marketing"
    TRANSACTIONAL = "transactional"


@dataclass(frozen=True, slots=True)
class ItemView:
    name: str
    quantity: int
    unit_price: Decimal
    image_url: str | None = None
    url: str | None = None  # the product page, already wrapped as a tracked click link
    sku: str | None = None
    sold_out: bool = False  # out of stock everywhere: shown, never as something to buy
    total: Decimal | None = None  # the line's amount as shown, where it is not price × quantity

    @property
    def line_total(self) -> Decimal:
        return self.total if self.total is not None else self.unit_price * self.quantity


@dataclass(frozen=True, slots=True)
class CouponView:
    code: str
    kind: str  # percent | fixed | free_shipping
    value: Decimal  # 10 for 10 %, an amount for fixed, 0 for free shipping
    currency: str
    expires_at: datetime
    min_order: Decimal | None = None


@dataclass(frozen=True, slots=True)
class DeliveryPromise:
    """A better way to ship than the customer saw (SPEC S8), with the numbers to say so."""

    origin_country: str  # ISO 3166-1 alpha-2 of the warehouse
    days_min: int
    days_max: int
    saving: Decimal | None = None  # how much less shipping costs, in the case's currency
    days_faster: int | None = None


@dataclass(frozen=True, slots=True)
class PaymentView:
    """How a pending order is to be paid, where the customer has to act: an offline method
    (``method``, see :class:`reclaim.domain.reasons.OfflineMethod`) and what they need to pay
    it (``instructions``: the order's own, else the store's text for offline methods)."""

    method: str | None = None
    instructions: str | None = None


@dataclass(frozen=True, slots=True)
class StoreView:
    name: str
    domain: str
    postal_address: str  # shown in every email's footer (CAN-SPAM, EU e-commerce law)
    support_email: str | None = None
    support_phone: str | None = None
    logo_url: str | None = None


@dataclass(frozen=True, slots=True)
class AnswerLink:
    """One answer to "What stopped you?": a reason of :class:`reclaim.domain.abandonment.Reason`
    and the signed link that records it (``/a/<token>``)."""

    reason: str
    url: str


@dataclass(frozen=True, slots=True)
class MessageContext:
    """Everything a template may use. Built fresh at send time, never stored."""

    kind: str  # the case kind: abandoned_checkout | pending_order | failed_payment
    step: str  # the flow step's key: reminder, help, incentive, …
    # BCP-47, e.g. de-DE; the renderer falls back to the language, then to en, for the whole
    # message (words and formatting alike)
    locale: str
    timezone: str  # IANA zone of the customer (or of the store when unknown)
    currency: str
    store: StoreView
    first_name: str | None
    items: tuple[ItemView, ...]
    total: Decimal
    restore_url: str  # tracked link back to the checkout / payment page
    unsubscribe_url: str
    reason: str | None = None  # failed payments: the classified FailureReason value
    order_number: str | None = None
    coupon: CouponView | None = None
    promise: DeliveryPromise | None = None
    # Pending orders: the end of the hold (the order's own hold, else the store's hold period
    # after the order), and what is true of the order, so that a message says only what
    # Reclaim did or will do: ``items_held``, Reclaim holds stock for it until then;
    # ``will_cancel``, Reclaim will cancel it on the platform then unless it is paid; at the
    # end of the hold, ``order_cancelled``, the platform cancelled it, and ``items_released``,
    # the items Reclaim held for it were released.
    hold_expires_at: datetime | None = None
    items_held: bool = False
    will_cancel: bool = False
    order_cancelled: bool = False
    items_released: bool = False
    now: datetime | None = None  # the send time, for "expires in 48 h" wording
    # In-stock products offered instead of the items marked sold_out (quantity 1 each).
    alternatives: tuple[ItemView, ...] = ()
    # The rows between the items and the total (shipping, discount, tax …), adding up to it.
    totals: CartTotals | None = None
    payment: PaymentView | None = None  # pending orders paid offline: how to pay
    # "What stopped you?": one signed link per reason, in the first email of an abandoned
    # checkout only (empty: the layout shows no question)
    answer_links: tuple[AnswerLink, ...] = ()


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered message: email uses all three, SMS and webhooks only ``text``.

    ``locale`` is the BCP 47 tag the whole message is written and formatted in: the
    customer's (de-AT), or the fallback language's (en) when theirs has no template.
    """

    subject: str
    text: str
    html: str | None = None
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with an email (a report's PDF): ``filename`` is up to 64 plain ASCII
    letters, digits, ``.``, ``_`` and ``-``; ``content_type`` a MIME type such as
    ``application/pdf``."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    to: str
    from_address: str  # "Boutique <shop@boutique.example>"
    subject: str
    text: str
    html: str
    message_id: str  # "<…@domain>", chosen by the engine so it is known before sending
    # https one-click endpoint (RFC 8058); None only for mail to the store's own operators
    list_unsubscribe_url: str | None
    list_unsubscribe_mailto: str | None = None
    reply_to: str | None = None
    headers: tuple[tuple[str, str], ...] = ()  # extra headers, e.g. X-Reclaim-Message
    attachments: tuple[Attachment, ...] = ()  # files after the text and HTML (multipart/mixed)


@dataclass(frozen=True, slots=True)
class OutgoingSms:
    to: str  # E.164
    body: str
    sender: str | None = None  # alphanumeric sender id or number, per provider


@dataclass(frozen=True, slots=True)
class OutgoingWebhook:
    url: str
    payload: dict[str, object]
    secret: str


@dataclass(frozen=True, slots=True)
class SendResult:
    provider_id: str | None = None  # SMTP queue id, SMS sid, webhook response id
    segments: int | None = None  # SMS only
    detail: dict[str, object] = field(default_factory=dict)
