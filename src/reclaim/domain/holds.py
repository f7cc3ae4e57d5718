"""Stock holds for unpaid orders (SPEC S7).

A pending order reserves its items for the store's hold period (3–7 days, default 5). The
reservation is all or nothing, and never oversells: the database applies it as conditional
updates (``reserved + q <= on_hand``), so concurrent orders for the last unit cannot both win.
When the order is paid its hold becomes an allocation (the units leave ``on_hand``); when it
is cancelled, or the hold runs out, the units are released.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from reclaim.errors import InvalidInput

MIN_HOLD = timedelta(days=3)
MAX_HOLD = timedelta(days=7)


class HoldStatus(StrEnum):
    ACTIVE = "active"  # units reserved until expires_at
    SHORT = "short"  # not enough stock anywhere when the order came: nothing reserved
    ALLOCATED = "allocated"  # the order was paid: the units are the order's
    RELEASED = "released"  # the order was cancelled: the units are back
    EXPIRED = "expired"  # unpaid at expires_at: released, the order auto-cancelled


OPEN_HOLD = (HoldStatus.ACTIVE,)


@dataclass(frozen=True, slots=True)
class HoldLine:
    warehouse: str
    sku: str
    quantity: int


@dataclass(eq=False)
class Hold:
    store_id: str
    order_external_id: str
    status: str
    created_at: datetime
    expires_at: datetime
    lines: list[dict[str, object]] = field(default_factory=list)  # HoldLine as JSON
    short: list[str] = field(default_factory=list)  # SKUs that could not be reserved
    closed_at: datetime | None = None
    id: int | None = None

    def hold_lines(self) -> list[HoldLine]:
        return [
            HoldLine(str(x["warehouse"]), str(x["sku"]), int(str(x["quantity"])))
            for x in self.lines
        ]


def demand(items: Sequence[tuple[str | None, int]]) -> dict[str, int]:
    """Units wanted per SKU; items without a SKU cannot be held and are left out."""
    out: dict[str, int] = {}
    for sku, quantity in items:
        if sku and quantity > 0:
            out[sku] = out.get(sku, 0) + quantity
    return out


def plan_reservation(
    wanted: Mapping[str, int],
    available: Mapping[tuple[str, str], int],
    *,
    preference: Sequence[str] = (),
) -> tuple[list[HoldLine], list[str]]:
    """Where to take each SKU from: one warehouse holding the whole order if there is one
    (the first in ``preference``, else the one with the most units left over), otherwise
    each SKU from the warehouse with the most available. Returns the lines and the SKUs no
    warehouse can cover (then nothing should be reserved)."""
    warehouses = sorted({w for w, _ in available})
    order = [w for w in preference if w in warehouses] + [
        w for w in warehouses if w not in preference
    ]
    whole = [w for w in order if all(available.get((w, sku), 0) >= q for sku, q in wanted.items())]
    if whole:
        if not preference or whole[0] not in preference:
            whole.sort(key=lambda w: -sum(available.get((w, s), 0) for s in wanted))
        return [HoldLine(whole[0], sku, q) for sku, q in sorted(wanted.items())], []
    lines, short = [], []
    for sku, q in sorted(wanted.items()):
        best = max(order, key=lambda w: available.get((w, sku), 0), default=None)
        if best is None or available.get((best, sku), 0) < q:
            short.append(sku)
        else:
            lines.append(HoldLine(best, sku, q))
    return lines, short


def extended_expiry(
    *, created_at: datetime, current: datetime, until: datetime, now: datetime
) -> datetime:
    """A new expiry chosen by an operator: later than now and the current one, and at most
    7 days after the order was placed (SPEC S7's allowed 3–7 days)."""
    if until <= now:
        raise InvalidInput("the new hold end must be in the future", field="until")
    if until <= current:
        raise InvalidInput("the new hold end must be later than the current one", field="until")
    if until > created_at + MAX_HOLD:
        raise InvalidInput(
            "a hold lasts at most 7 days from the order "
            f"(until {(created_at + MAX_HOLD).isoformat()})",
            field="until",
        )
    return until
