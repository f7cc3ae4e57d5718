"""Where a cart can ship from, when it arrives, and whether that beats what the customer saw
(SPEC S8).

Warehouses have a time zone, a daily cut-off, working days and holidays; lanes go from a
warehouse to a destination country (or one region of it) with a carrier, a service, a transit
time in business days, a cost per weight band and CO₂ per kg. :func:`promise` turns an order
time into a delivery date range; :func:`options` lists every way to ship a whole cart and
labels the winners (nearest, fastest, cheapest, greenest, or a split shipment when no single
warehouse can); :func:`better_than_seen` decides whether an option is worth telling the
customer about and gives the numbers for :class:`reclaim.domain.messages.DeliveryPromise`.

Business days at the destination are Monday to Friday; the warehouse's own calendar (working
days, holidays) decides only the day a parcel leaves.

Modules: :mod:`~reclaim.domain.fulfilment.network` (warehouses, lanes and their checks),
:mod:`~reclaim.domain.fulfilment.promises` (business days and :func:`promise`),
:mod:`~reclaim.domain.fulfilment.parcels` (parcels, options and the criteria they win),
:mod:`~reclaim.domain.fulfilment.search` (:func:`options`, :func:`quote`),
:mod:`~reclaim.domain.fulfilment.labels` (nearness and the winners) and
:mod:`~reclaim.domain.fulfilment.offers` (:func:`better_than_seen`).
"""

from reclaim.domain.fulfilment.labels import proximity
from reclaim.domain.fulfilment.network import WEEKDAYS, CostBand, Lane, LaneKey, Warehouse
from reclaim.domain.fulfilment.offers import (
    CHEAPER_BY,
    FASTER_BY_DAYS,
    Improvement,
    better_than_seen,
    delivery_promise,
)
from reclaim.domain.fulfilment.parcels import (
    CartLine,
    Criterion,
    FulfilmentOption,
    FulfilmentOptions,
    Parcel,
)
from reclaim.domain.fulfilment.promises import Promise, promise
from reclaim.domain.fulfilment.search import lanes_to, options, quote

__all__ = [
    "CHEAPER_BY",
    "FASTER_BY_DAYS",
    "WEEKDAYS",
    "CartLine",
    "CostBand",
    "Criterion",
    "FulfilmentOption",
    "FulfilmentOptions",
    "Improvement",
    "Lane",
    "LaneKey",
    "Parcel",
    "Promise",
    "Warehouse",
    "better_than_seen",
    "delivery_promise",
    "lanes_to",
    "options",
    "promise",
    "proximity",
    "quote",
]
