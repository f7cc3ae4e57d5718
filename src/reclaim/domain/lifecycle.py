"""Where one customer stands with a store (SPEC S11's customer page): a new contact, someone
who abandoned, a customer, a repeat customer."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    NEW_CONTACT = "new_contact"  # known to Reclaim, no purchase begun and none finished
    ABANDONED = "abandoned"  # began a purchase that Reclaim opened a case for, never paid
    CUSTOMER = "customer"  # one paid order
    REPEAT = "repeat"  # two or more paid orders


def lifecycle(*, paid_orders: int, cases: int, earlier_orders: int | None = None) -> Stage:
    """The stage of a customer with ``paid_orders`` paid orders seen by Reclaim, ``cases``
    recovery cases (of any kind and state), and ``earlier_orders`` the platform counted
    before the last checkout or order (``Contact.orders_count``; None where it does not say).
    The larger count of orders wins: the platform knows orders from before Reclaim."""
    orders = max(paid_orders, earlier_orders or 0)
    if orders >= 2:
        return Stage.REPEAT
    if orders == 1:
        return Stage.CUSTOMER
    if cases > 0:
        return Stage.ABANDONED
    return Stage.NEW_CONTACT
