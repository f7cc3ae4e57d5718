"""What to tell the customer (SPEC S8): whether an option beats what they saw at checkout,
and the numbers for :class:`reclaim.domain.messages.DeliveryPromise`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from reclaim.domain.fulfilment.parcels import FulfilmentOption
from reclaim.domain.messages import DeliveryPromise
from reclaim.domain.money import exponent

# better_than_seen: "faster by ≥ 2 days or cheaper by ≥ 10 %" (issue 4).
FASTER_BY_DAYS = 2
CHEAPER_BY = Decimal("0.10")


@dataclass(frozen=True, slots=True)
class Improvement:
    """Why an option is worth a mention: ``days_faster`` (> 0) and ``saving`` (> 0, in
    ``currency``, rounded to its minor unit) where it gains on them, ``None`` where not."""

    origin_country: str
    days_min: int
    days_max: int
    days_faster: int | None
    saving: Decimal | None
    currency: str

    def delivery_promise(self) -> DeliveryPromise:
        return DeliveryPromise(
            origin_country=self.origin_country,
            days_min=self.days_min,
            days_max=self.days_max,
            saving=self.saving,
            days_faster=self.days_faster,
        )


def delivery_promise(option: FulfilmentOption) -> DeliveryPromise | None:
    """The option's promise as message data, without a comparison; ``None`` for a split
    across countries (there is no one country it "ships from")."""
    if option.origin_country is None:
        return None
    p = option.promise
    return DeliveryPromise(
        origin_country=option.origin_country, days_min=p.days_min, days_max=p.days_max
    )


def better_than_seen(
    option: FulfilmentOption,
    *,
    seen_days_max: int | None,
    seen_cost: Decimal | None,
    seen_currency: str | None = None,
) -> Improvement | None:
    """Whether ``option`` beats what the customer saw at checkout: faster by ≥ 2 days (its
    :attr:`Promise.days_max` against ``seen_days_max``, both business days from the order) or
    cheaper by ≥ 10 % (its cost against ``seen_cost``, the shipping price shown).

    An option worse on the other count (slower, or dearer) is not better, so it is never
    advertised with one good number hiding a bad one. A count the customer was not shown
    (``None``), or a ``seen_currency`` other than the option's, cannot be compared and is left
    out. ``None`` when nothing qualifies, or for a split across countries.
    """
    origin = option.origin_country
    if origin is None:
        return None
    p = option.promise
    faster_by = seen_days_max - p.days_max if seen_days_max is not None else None
    comparable = seen_cost is not None and (
        seen_currency is None or seen_currency.upper() == option.currency
    )
    saving = seen_cost - option.cost if seen_cost is not None and comparable else None
    faster = faster_by is not None and faster_by >= FASTER_BY_DAYS
    cheaper = (
        saving is not None
        and seen_cost is not None
        and seen_cost > 0
        and saving >= seen_cost * CHEAPER_BY
    )
    slower = faster_by is not None and faster_by < 0
    dearer = saving is not None and saving < 0
    if not (faster or cheaper) or slower or dearer:
        return None
    unit = Decimal(1).scaleb(-exponent(option.currency))
    return Improvement(
        origin_country=origin,
        days_min=p.days_min,
        days_max=p.days_max,
        days_faster=faster_by if faster_by is not None and faster_by > 0 else None,
        saving=saving.quantize(unit, rounding=ROUND_HALF_EVEN)
        if saving is not None and saving > 0
        else None,
        currency=option.currency,
    )
