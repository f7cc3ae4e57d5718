"""Test mode (issue 16): a platform's test deliveries (Stripe's ``livemode: false``, a Shopify
test order, the events API's ``test``) keep a note in the inbox saying what became of them, so
``reclaim inbox list --test``, ``inbox stats``, ``inbox failed`` and the worker's summary say
why they opened no case, or that they ran as cases marked test (``accept_test_mode``)."""

from __future__ import annotations

from reclaim.domain.events import ParsedDelivery

# A processed delivery that is only a test keeps this note (``error``) in the inbox, so
# ``reclaim inbox stats``, ``inbox failed`` and the worker say why it opened no case.
TEST_MODE = "test mode"
_STRIPE_TEST = "test mode: Stripe sent it with livemode false; kept, but tests open no case"
_PLATFORM_TEST = "test mode: the platform marked it as a test; kept, but tests open no case"
_ACCEPTED_TEST = (
    "test mode: {who}; the store accepts test mode, so it runs as a real case marked test"
)


def test_mode_note(source: str, parsed: ParsedDelivery, *, accepted: bool = False) -> str | None:
    """The inbox note of a delivery whose every fact is a test (Stripe's ``livemode:
    false``, a platform's test order), else None. ``accepted``: the store's
    ``accept_test_mode`` (its tests open cases, marked test)."""
    if not parsed.facts or not all(getattr(f, "is_test", False) for f in parsed.facts):
        return None
    if accepted:
        who = "Stripe sent it with livemode false" if source == "stripe" else "a platform test"
        return _ACCEPTED_TEST.format(who=who)
    return _STRIPE_TEST if source == "stripe" else _PLATFORM_TEST
