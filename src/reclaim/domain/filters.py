"""Traffic that must never become a case: crawlers and the store's own test orders."""

from __future__ import annotations

import re
from collections.abc import Iterable

_BOT = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|headlesschrome|phantomjs|python-requests|python-urllib"
    r"|curl/|wget/|httpclient|go-http-client|okhttp|scrapy|facebookexternalhit|lighthouse"
    r"|pingdom|uptimerobot|monitoring|preview",
    re.IGNORECASE,
)


def is_bot(user_agent: str | None) -> bool:
    """Known crawlers, link previewers, monitors and scripted clients."""
    return bool(user_agent) and _BOT.search(user_agent or "") is not None


def is_test_contact(
    email: str | None, *, test_emails: Iterable[str], test_domains: Iterable[str]
) -> bool:
    """The store's own test addresses and domains (subdomains included)."""
    if not email:
        return False
    email = email.strip().lower()
    if email in set(test_emails):
        return True
    domain = email.rpartition("@")[2]
    return any(domain == d or domain.endswith("." + d) for d in test_domains)
