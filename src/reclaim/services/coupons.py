"""The coupons Reclaim issued, for the merchant: where each stands on the store's platform
(pushed, left to import, not tried yet), and whether it was redeemed (SPEC S6)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from reclaim.domain.steps import Coupon
from reclaim.errors import InvalidInput
from reclaim.services.ports import UnitOfWork

PUSH_STATES = ("pushed", "exported", "none")
MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class CouponPage:
    coupons: Sequence[Coupon]
    next_cursor: int | None


def list_coupons(
    *,
    uow: UnitOfWork,
    store_id: str,
    push_state: str | None = None,
    since: datetime | None = None,
    cursor: int | None = None,
    limit: int = 100,
) -> CouponPage:
    """A store's coupons in the order they were issued, a page at a time (``cursor``: the
    previous page's ``next_cursor``). ``push_state``: pushed, exported (no connector: to be
    imported by the merchant) or none (not tried yet)."""
    if push_state is not None and push_state not in PUSH_STATES:
        raise InvalidInput(
            f"push_state must be one of {', '.join(PUSH_STATES)}", field="push_state"
        )
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be 1 to {MAX_PAGE}", field="limit")
    if since is not None and since.tzinfo is None:
        raise InvalidInput("since needs a time zone, e.g. 2026-05-01T00:00:00Z", field="since")
    with uow:
        found = list(
            uow.coupons.listed(
                store_id, push_state=push_state, since=since, limit=limit + 1, after_id=cursor or 0
            )
        )
    more = len(found) > limit
    page = found[:limit]
    return CouponPage(page, page[-1].id if more and page else None)
