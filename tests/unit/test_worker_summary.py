"""What `reclaim worker --once` says, and where Reclaim's links may lead."""

from __future__ import annotations

from helpers import store_with
from reclaim.entrypoints.worker import WorkerStats, summary_lines
from reclaim.services.steps import DeliveryStats
from reclaim.services.tracking import allowed_hosts


def test_the_reasons_line_names_only_steps_that_sent_nothing() -> None:
    sent_only = WorkerStats(steps=DeliveryStats(sent=1, outcomes={"sent": 1}))
    assert not any("sent nothing" in line for line in summary_lines(sent_only))
    mixed = WorkerStats(
        steps=DeliveryStats(sent=1, skipped=1, outcomes={"sent": 1, "quiet_hours": 1})
    )
    why = [line for line in summary_lines(mixed) if "sent nothing" in line]
    assert len(why) == 1 and "sent 1" not in why[0], why


def test_links_may_lead_to_the_platforms_host_for_the_shop() -> None:
    store = store_with(
        "shopify", shop_domain="nordwolle.myshopify.com", extra_domains=("blog.example",)
    )
    assert allowed_hosts(store) == {"shop.example", "nordwolle.myshopify.com", "blog.example"}
