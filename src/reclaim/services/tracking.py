"""Tracked links and what the customer does with them (SPEC S4): opens, clicks, the restore
link, unsubscribing. Every link carries a signed token naming its message and its purpose,
so a token made for one purpose never works for another and nothing in it is personal data.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlsplit

from reclaim.domain.cases import CaseKind
from reclaim.domain.links import safe_destination, sign_token, verify_token, with_utm
from reclaim.domain.messages import Channel, ItemView
from reclaim.domain.policy import suppression_key
from reclaim.domain.steps import MessageRecord
from reclaim.domain.stores import Store
from reclaim.errors import AuthError, InvalidInput, NotFound
from reclaim.services.flows import stop_customer_flows
from reclaim.services.ports import UnitOfWork

OPEN, CLICK, RESTORE, UNSUBSCRIBE = "o", "c", "r", "u"
ANSWER, ANSWER_FORM = "a", "f"  # "What stopped you?": a reason's link, the page's form


@dataclass(frozen=True, slots=True)
class Links:
    """Builds the public URLs of one message. ``base_url`` is ``RECLAIM_PUBLIC_URL``."""

    base_url: str
    key: bytes

    def _token(self, kind: str, message_id: int, **extra: str | int) -> str:
        return sign_token({"k": kind, "m": message_id, **extra}, key=self.key)

    def open(self, message_id: int) -> str:
        return f"{self.base_url}/t/o/{self._token(OPEN, message_id)}.gif"

    def click(self, message_id: int, url: str) -> str:
        return f"{self.base_url}/t/c/{self._token(CLICK, message_id, u=url)}"

    def restore(self, message_id: int) -> str:
        return f"{self.base_url}/t/r/{self._token(RESTORE, message_id)}"

    def unsubscribe(self, message_id: int) -> str:
        return f"{self.base_url}/u/{self._token(UNSUBSCRIBE, message_id)}"

    def answer(self, message_id: int, case_id: int, reason: str) -> str:
        """The link that records ``reason`` as the customer's answer: it names the message,
        its case and the reason, so it answers for that case only and for that reason only."""
        return f"{self.base_url}/a/{self._token(ANSWER, message_id, c=case_id, r=reason)}"

    def answer_form(self, message_id: int, case_id: int, *, expires: datetime) -> str:
        """The token of the answer page's form (no URL: it travels in a hidden field)."""
        return self._token(ANSWER_FORM, message_id, c=case_id, exp=int(expires.timestamp()))

    def read(self, token: str, kind: str, *, now: datetime | None = None) -> dict[str, str | int]:
        """The token's payload; ``AuthError`` when it is forged or made for another purpose
        (or, given ``now``, past its ``exp``)."""
        payload = verify_token(token, key=self.key, now=now)
        if payload.get("k") != kind or not isinstance(payload.get("m"), int):
            raise AuthError("link is invalid")
        return payload


def allowed_hosts(store: Store) -> set[str]:
    """Where links may lead: the shop's domain, the platform's host for it (a Shopify cart's
    recover URL is on name.myshopify.com) and the hosts the operator added."""
    shop = store.settings.shop_domain
    return {store.domain.lower(), *([shop.lower()] if shop else []), *store.settings.extra_domains}


@functools.lru_cache(maxsize=4096)
def _safe_product_url(url: str, hosts: frozenset[str]) -> str | None:
    """:func:`safe_destination` of a product link, kept: a catalogue's URLs recur in every
    message that shows the product, and the check (IDNA, percent-encoding) is pure."""
    return safe_destination(url, allowed_hosts=hosts)


def item_view(
    links: Links,
    message_id: int,
    hosts: set[str],
    *,
    name: str,
    quantity: int,
    unit_price: Decimal,
    url: str | None,
    image_url: str | None,
    sku: str | None,
    total: Decimal | None = None,
) -> ItemView:
    """A product as a message shows it: its link a tracked click link, and only to the
    store's own domains (``hosts``); its image only over https. ``total``: the line's amount
    where the platform states one (else price × quantity)."""
    safe = _safe_product_url(url, frozenset(hosts)) if url else None
    tracked = None
    if safe:
        try:
            tracked = links.click(message_id, safe)
        except InvalidInput:  # a product URL too long to sign into a link: leave it out
            tracked = None
    image = image_url if image_url and image_url.startswith("https://") else None
    return ItemView(
        name=name,
        quantity=quantity,
        unit_price=unit_price,
        image_url=image,
        url=tracked,
        sku=sku,
        total=total,
    )


def _message(uow: UnitOfWork, payload: dict[str, str | int]) -> MessageRecord:
    message = uow.messages.get(int(payload["m"]))
    if message is None:
        raise NotFound("this link's message no longer exists")
    return message


def _engage(
    uow: UnitOfWork, message: MessageRecord, *, type: str, at: datetime, **data: object
) -> None:
    assert message.id is not None
    if type == "open":
        message.opens += 1
        message.opened_at = message.opened_at or at
    else:
        message.clicks += 1
        message.clicked_at = message.clicked_at or at
        # A click proves the message was seen, even where images (the pixel) were blocked.
        message.opened_at = message.opened_at or at
    uow.messages.add_event(message.id, store_id=message.store_id, type=type, at=at, data=data)


def record_open(*, uow: UnitOfWork, links: Links, token: str, now: datetime) -> None:
    """The open pixel was fetched. A bad token changes nothing (the pixel is served anyway)."""
    payload = links.read(token, OPEN)
    with uow:
        _engage(uow, _message(uow, payload), type="open", at=now)
        uow.commit()


def record_click(*, uow: UnitOfWork, links: Links, token: str, now: datetime) -> str:
    """Where to redirect. ``NotFound`` when the destination is not on the store's domains:
    a signed link never becomes an open redirect, even if the key leaked."""
    payload = links.read(token, CLICK)
    with uow:
        message = _message(uow, payload)
        store = uow.stores.get(message.store_id)
        if store is None:
            raise NotFound("this link's store no longer exists")
        target = safe_destination(str(payload.get("u", "")), allowed_hosts=allowed_hosts(store))
        if target is None:
            raise NotFound("this link does not lead to the store")
        _engage(uow, message, type="click", at=now, url=target[:500])
        uow.commit()
    return target


def restore_target(*, uow: UnitOfWork, links: Links, token: str, now: datetime) -> str:
    """The checkout (or payment page) to bring the customer back to, with UTM tags."""
    payload = links.read(token, RESTORE)
    with uow:
        message = _message(uow, payload)
        store = uow.stores.get(message.store_id)
        case = uow.cases.get(message.case_id)
        if store is None or case is None:
            raise NotFound("this link's store or case no longer exists")
        hosts = allowed_hosts(store)
        if case.kind == CaseKind.SHIPMENT_EXCEPTION and case.recovery_url:
            # A logistics notice leads to the carrier's tracking page, which the platform gave
            # (signed webhook); the token names the case, never the URL, so no open redirect.
            hosts = hosts | {urlsplit(case.recovery_url).hostname or ""}
        target = None
        if case.recovery_url:
            target = safe_destination(case.recovery_url, allowed_hosts=hosts)
        if target is None:  # no recovery URL, or one off the store's domains: the shop's cart
            target = f"https://{store.domain}/cart"
        target = with_utm(
            target,
            source="reclaim",
            medium=message.channel,
            campaign=case.kind,
            content=_step_key(message),
        )
        _engage(uow, message, type="click", at=now, url="restore")
        uow.commit()
    return target


def _step_key(message: MessageRecord) -> str:
    return message.template.split("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class UnsubscribePage:
    store_name: str
    masked_address: str
    already: bool
    locale: str = "en"  # the message's: the page speaks the language the message spoke


def _mask(address: str) -> str:
    name, _, domain = address.partition("@")
    if not domain:
        return address[:3] + "…" + address[-2:]
    return f"{name[:1]}…@{domain}"


def unsubscribe_page(*, uow: UnitOfWork, links: Links, token: str) -> UnsubscribePage:
    """What the confirmation page shows. Reading it changes nothing (mail scanners fetch
    every link in a message: a GET must never unsubscribe)."""
    payload = links.read(token, UNSUBSCRIBE)
    with uow:
        message = _message(uow, payload)
        store = uow.stores.get(message.store_id)
        key = suppression_key(Channel(message.channel), message.recipient)
        already = uow.suppressions.reason(message.store_id, message.channel, key) is not None
        return UnsubscribePage(
            store_name=store.name if store else "",
            masked_address=_mask(message.recipient),
            already=already,
            locale=message.locale or "en",
        )


def unsubscribe(*, uow: UnitOfWork, links: Links, token: str, now: datetime, how: str) -> bool:
    """Suppress the message's address and stop every running flow of that customer in the
    store. Idempotent; True when this call unsubscribed (False: it already was)."""
    payload = links.read(token, UNSUBSCRIBE)
    with uow:
        message = _message(uow, payload)
        assert message.id is not None
        new = uow.suppressions.add(
            store_id=message.store_id,
            channel=message.channel,
            address_key=suppression_key(Channel(message.channel), message.recipient),
            reason="unsubscribed",
            at=now,
            message_id=message.id,
        )
        uow.messages.add_event(
            message.id, store_id=message.store_id, type="unsubscribe", at=now, data={"how": how}
        )
        if message.customer_key:
            stop_customer_flows(
                uow, message.store_id, message.customer_key, at=now, reason="unsubscribed"
            )
        uow.commit()
    return new
