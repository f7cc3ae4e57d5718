"""What the HTTP API answers, as response models: the shapes ``/openapi.json`` documents.

Routes build their answers as JSON values (:mod:`reclaim.entrypoints.api.shapes` for cases
and holds); these models describe them field for field, in the order they are written.
Amounts are exact decimal text (``"617.28"``) and instants ISO 8601 text ending in ``Z``.
"""

from typing import Any

from pydantic import BaseModel, Field


class WebhookAnswer(BaseModel):
    """A delivery stored for the worker (``accepted``), seen before (``duplicate``), or a
    platform's test ping (``ping``, no delivery)."""

    status: str
    delivery_id: int | None


class WebhookRejected(BaseModel):
    """A delivery stored but not readable (422): ``detail`` says why."""

    detail: str | None
    delivery_id: int | None
    status: str


class EventResult(BaseModel):
    index: int | None
    status: str  # accepted | duplicate | rejected
    delivery_id: int | None
    error: str | None


class EventsAnswer(BaseModel):
    """How many events were accepted, seen before, or rejected, and each one's result
    (202; 422 when any was rejected)."""

    accepted: int
    duplicate: int
    rejected: int
    results: list[EventResult]


class CaseItem(BaseModel):
    name: str
    quantity: int
    price: str | None
    sku: str | None
    product_id: str | None
    variant_id: str | None
    image_url: str | None


class WhyNotSent(BaseModel):
    """Why a case has had no message (so far); null once one was sent."""

    code: str
    text: str
    outcome: str | None
    step: str | None
    until: str | None


class Case(BaseModel):
    """A recovery case: an abandoned checkout, a pending order or a failed payment."""

    id: int
    kind: str
    status: str
    value: str
    currency: str
    email: str | None
    phone: str | None
    first_name: str | None
    reason: str
    reason_code: str | None
    customer_locale: str | None
    customer_timezone: str | None
    country: str | None
    created_at: str
    occurred_at: str
    closed_at: str | None
    close_reason: str | None
    checkout_id: str | None
    order_id: str | None
    payment_intent_id: str | None
    recovery_url: str | None
    recovered_order_id: str | None
    recovered_value: str | None
    attribution: str | None
    merged_from: list[int]
    flow_state: str | None
    flow_stop_reason: str | None
    holdout: bool
    next_step_at: str | None
    attributed_message_id: int | None
    items: list[CaseItem]
    test: bool = Field(
        description="Opened from a platform's test (Stripe livemode false, a Shopify test "
        "order, the events API's test) because the store accepts test mode; its messages' "
        'subjects start with "[TEST] "'
    )
    why_not_sent: WhyNotSent | None


class CasePage(BaseModel):
    cases: list[Case]
    next_cursor: int | None


class CaseMessage(BaseModel):
    id: int
    channel: str
    step: str
    template: str
    locale: str
    status: str
    subject: str | None
    sent_at: str | None
    opened_at: str | None
    clicked_at: str | None
    opens: int
    clicks: int
    coupon: str | None
    error: str | None


class CaseStep(BaseModel):
    step: str
    status: str
    due_at: str
    channel: str | None
    outcome: str | None
    attempts: int


class TimelineEntry(BaseModel):
    at: str
    type: str
    data: dict[str, Any]


class CaseDetail(Case):
    """A case with its messages, its flow's steps and its timeline."""

    messages: list[CaseMessage]
    steps: list[CaseStep]
    timeline: list[TimelineEntry]


class Stopped(BaseModel):
    status: str
    steps_cancelled: int


class Coupon(BaseModel):
    """A coupon Reclaim issued, and where it stands on the store's platform."""

    code: str
    kind: str
    value: str
    currency: str
    min_order: str | None
    expires_at: str
    single_use: bool
    case_id: int
    created_at: str
    push_state: str | None  # pushed | exported | null (not tried)
    platform_ref: str | None
    pushed_at: str | None
    push_error: str | None
    redeemed_at: str | None
    redeemed_order: str | None


class CouponPage(BaseModel):
    coupons: list[Coupon]
    next_cursor: int | None


class Alert(BaseModel):
    """Something an operator should see: complaint rate, sending paused, …"""

    at: str
    type: str
    message: str
    data: dict[str, Any]


class Alerts(BaseModel):
    alerts: list[Alert]


class FeedbackAnswer(BaseModel):
    suppressed: bool
    flows_stopped: int
    complaint_state: str  # ok | alert | pause
    paused: bool


class SuppressionEntry(BaseModel):
    suppressed: bool
    reason: str | None
    since: str | None


class SuppressionAdded(BaseModel):
    suppressed: bool
    new: bool
    flows_stopped: int


class SuppressionRemoved(BaseModel):
    removed: bool
    was: SuppressionEntry


class WarehousesSaved(BaseModel):
    warehouses: int


class StockUpdated(BaseModel):
    updated: int


class ProductsSaved(BaseModel):
    catalogue: int
    weights: int


class StockLevel(BaseModel):
    warehouse: str
    sku: str
    on_hand: int
    reserved: int
    available: int


class Stock(BaseModel):
    sku: str | None
    available: int
    levels: list[StockLevel]


class HoldLine(BaseModel):
    warehouse: str
    sku: str
    quantity: int


class Hold(BaseModel):
    """A pending order's reservation: the units held per warehouse, and the SKUs that could
    not be held (``short``)."""

    order_id: str
    status: str
    created_at: str
    expires_at: str
    lines: list[HoldLine]
    short: list[str]


class OutOfStock(BaseModel):
    """Not enough units of ``skus`` in any warehouse: nothing was reserved (409)."""

    detail: str
    skus: list[str]


class Parcel(BaseModel):
    warehouse: str
    carrier: str
    service: str
    skus: list[tuple[str, int]]  # [sku, quantity]
    cost: str


class FulfilmentOption(BaseModel):
    labels: list[str]  # nearest | fastest | cheapest | greenest | split
    split: bool
    origin_country: str | None
    cost: str
    currency: str
    co2_kg: str
    ship_on: str
    delivery_earliest: str
    delivery_latest: str
    days_min: int
    days_max: int
    parcels: list[Parcel]


class FulfilmentOptions(BaseModel):
    unavailable: list[str]
    options: list[FulfilmentOption]


class LogisticsCase(BaseModel):
    case_id: int
    status: str
    kind: str
    shipment_id: str
    order_id: str | None
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    shipment_status: str | None
    detected_at: str
    opened_at: str
    days_late: int


class LogisticsQueue(BaseModel):
    cases: list[LogisticsCase]


class Lane(BaseModel):
    origin: str | None
    destination_country: str | None
    deliveries: int
    late: int
    late_share: float
    median_delay_days: float | None
    slipping: bool
    delay_days: int


class Lanes(BaseModel):
    lanes: list[Lane]


class Health(BaseModel):
    status: str
    version: str


class Ready(BaseModel):
    status: str


class Unready(BaseModel):
    """The database does not answer or is not migrated (503)."""

    status: str
    detail: str
