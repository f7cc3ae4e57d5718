"""``reclaim store set``'s options for the trust settings (issue 16): the WooCommerce checkout
field that holds marketing consent, and how long each kind of data is kept (the retention
windows of :mod:`reclaim.domain.retention`). Each takes text; ``''`` goes back to the
default."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import click

from reclaim.domain.retention import KINDS


def _days(text: str) -> timedelta:
    try:
        days = int(text.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a number of days such as 30") from None
    return timedelta(days=days)


TRUST_SETTABLE: dict[str, tuple[str, Callable[[str], object]]] = {
    "consent_meta_key": (
        "WooCommerce order meta key of your own marketing checkbox, read as the customer's "
        "consent (docs/consent.md)",
        lambda v: v.strip(),
    ),
    **{
        kind.setting: (
            f"Days to keep {kind.what} (default {kind.default.days}; '' for the default)",
            _days,
        )
        for kind in KINDS
    },
}
