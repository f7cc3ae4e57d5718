"""The simulated customers reading Reclaim's emails and acting on them, over HTTP, in simulated
time: they open (fetch the pixel), click (the restore link or a product), unsubscribe (the page,
then one-click or the form) and, when a message persuades them, come back and buy: their store's
platform then sends its real webhooks, exactly like an unprompted return.

Who does what is the behavioural model of :mod:`reclaim.sim.behaviour`; who buys because of a
message is fixed in advance by :mod:`reclaim.sim.effect` (``y1``). Every draw here is a hash of
the seed and the case (:func:`reclaim.sim.effect.unit`), never a shared generator, so the
order in which emails arrive cannot change an outcome.

Each email is matched to the case it is about the way the customer would: by recipient, then
by the items it names, the customer's open cases first. While doing so the simulator checks
what SPEC S2/S5 promise: no message about an opportunity the customer already paid for (or that
is otherwise closed), none to a stranger, no marketing without consent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

import httpx

from reclaim.domain.money import exponent
from reclaim.sim import behaviour as bh
from reclaim.sim.consent import may_market
from reclaim.sim.effect import Potential, flow_for, unit, unsubscriber
from reclaim.sim.emails import Letter
from reclaim.sim.people import Actor
from reclaim.sim.storefronts import Checkout, Emitted
from reclaim.sim.traffic import Plan
from reclaim.sim.truth import ExpectedCase, GroundTruth
from reclaim.sim.world import STORE

MARKETING_KINDS = frozenset({"abandoned_checkout"})  # the default flows' marketing kind
MAX_VIOLATIONS = 40
CaseKey = tuple[str, str, str]  # (store, kind, subject)


class Host(Protocol):
    """What the customers need from the simulation: its HTTP client, its clock, a way to act
    at a later simulated instant, and the store platforms' outgoing webhooks."""

    client: httpx.Client

    def later(self, at: datetime, action: Callable[[], None]) -> None: ...
    def emitted(self, items: list[Emitted]) -> None: ...
    def drop_planned(self, store: str, subject: str, after: datetime) -> None: ...
    def message_case(
        self, store: str, message_id: int, candidates: list[tuple[str, str]]
    ) -> tuple[str, str] | None: ...


@dataclass(slots=True)
class Mail:
    """One email as the simulator saw it arrive (at a worker run) and what became of it."""

    at: datetime
    store: str
    customer: str
    kind: str | None
    subject: str | None
    position: int  # among the emails about the same case (0: the first)
    marketing: bool
    opened_at: datetime | None = None
    clicked_at: datetime | None = None
    step: str | None = None  # from the restore link's utm_content, once clicked
    persuades: bool = False


@dataclass(slots=True)
class Audience:
    plan: Plan
    truth: GroundTruth
    potentials: dict[CaseKey, Potential]
    host: Host
    end: datetime
    holdout: float
    hold_period: timedelta
    log: list[Mail] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    violations: list[dict[str, str]] = field(default_factory=list)
    bought: dict[CaseKey, datetime] = field(default_factory=dict)
    received: Counter[CaseKey] = field(default_factory=Counter)
    leaving: set[tuple[str, str]] = field(default_factory=set)  # decided to unsubscribe
    unsubscribed: dict[tuple[str, str], datetime] = field(default_factory=dict)  # and did
    actors: dict[str, Actor] = field(init=False)

    def __post_init__(self) -> None:
        self.actors = {a.email.lower(): a for a in self.plan.actors}

    @property
    def seed(self) -> int:
        return self.plan.config.seed

    # -- an email arrives ---------------------------------------------------------------------

    def arrive(self, letter: Letter, at: datetime) -> None:
        """``letter`` reached its recipient at the worker run ``at``."""
        self.counts["emails"] += 1
        actor = self.actors.get(letter.recipient)
        if actor is None:
            self._violation("unknown_recipient", at, letter.recipient, "")
            return
        store, customer = actor.store, actor.key
        case = self._match(letter, store, customer, at)
        if case is None:
            self.log.append(Mail(at, store, customer, None, None, 0, False))
            return
        key = (case.store, case.kind, case.subject)
        position = self.received[key]
        self.received[key] += 1
        marketing = case.kind in MARKETING_KINDS
        mail = Mail(at, store, customer, case.kind, case.subject, position, marketing)
        self.log.append(mail)
        if marketing and not may_market(actor, STORE[store].platform):
            self._violation("marketing_without_consent", at, customer, case.subject)
        gone = self.unsubscribed.get((store, customer))
        if gone is not None and at > gone:
            self._violation("after_unsubscribe", at, customer, case.subject)
        if case.kind == "pending_order" and at >= case.occurred_at + self.hold_period:
            self.truth.hold_ended(case, at)  # the cancellation notice: nothing to act on
            self.counts["hold_end_notices"] += 1
            return
        self._react(letter, mail, case, actor)

    def _match(
        self, letter: Letter, store: str, customer: str, at: datetime
    ) -> ExpectedCase | None:
        """The case the email is about. The customer's only case, or, when they have several,
        the one Reclaim's cases API lists the message under (a customer would tell from the
        items and the wording; the API is exact); the items it names best if that fails. A
        case that is already closed means a message that should not have gone (SPEC S2: a
        payment or a cancellation stops the flow in the same transaction)."""
        cases = self.truth.customer_cases(store, customer)
        if not cases:
            self._violation("no_case", at, customer, "")
            return None
        best: ExpectedCase | None = cases[0] if len(cases) == 1 else None
        if best is None:
            found = self.host.message_case(
                store, letter.message_id, [(c.kind, c.subject) for c in cases]
            )
            best = next((c for c in cases if (c.kind, c.subject) == found), None)
        if best is None:
            self.counts["matched_by_items"] += 1
            names = {p.sku: p.name for p in STORE[store].catalogue}

            def score(c: ExpectedCase) -> tuple[int, int, int]:
                hits = sum(letter.names(names[s]) for s in c.items if s in names)
                return hits, int(c.status == "open"), cases.index(c)

            best = max(cases, key=score)
        if best.status != "open":
            why = "after_payment" if best.status == "recovered" else f"after_{best.status}"
            self._violation(why, at, customer, best.subject)
            return None
        return best

    def _violation(self, what: str, at: datetime, customer: str, subject: str) -> None:
        self.counts[f"violation:{what}"] += 1
        if len(self.violations) < MAX_VIOLATIONS:
            self.violations.append(
                {"what": what, "at": _iso(at), "customer": customer, "subject": subject}
            )

    # -- what the customer does ---------------------------------------------------------------

    def _react(self, letter: Letter, mail: Mail, case: ExpectedCase, actor: Actor) -> None:
        key = (case.store, case.kind, case.subject or "")
        p = self.potentials.get(key)
        persuades = (
            p is not None
            and p.y1
            and not p.y0
            and p.persuaded_at == mail.position
            and key not in self.bought
        )
        purpose = "marketing" if mail.marketing else "transactional"
        seed, n = self.seed, mail.position
        leaves = (
            mail.marketing
            and unsubscriber(seed, case.store, case.customer)
            and (case.store, case.customer) not in self.leaving
        )
        opens = persuades or leaves or unit(seed, "open", *key, n) < bh.OPEN_RATE[purpose]
        if not opens:
            return
        t_open = mail.at + bh.read_delay(unit(seed, "read", *key, n), buying=persuades)
        if t_open >= self.end:
            self.counts["persuaded_after_end"] += int(persuades)
            return
        mail.persuades = persuades
        host = self.host
        host.later(t_open, lambda: self._open(letter, mail, t_open))
        if leaves:
            self.leaving.add((case.store, case.customer))
            one_click = letter.one_click and unit(seed, "one-click", *key) < bh.ONE_CLICK_SHARE
            t_page = t_open + timedelta(seconds=20)
            who = (case.store, case.customer)
            host.later(t_page, lambda: self._unsubscribe(letter, who, t_page, one_click=one_click))
            return
        clicks = persuades or unit(seed, "click", *key, n) < bh.CLICK_RATE[purpose]
        if not clicks:
            return
        t_click = t_open + timedelta(seconds=10 + round(110 * unit(seed, "click-at", *key, n)))
        product = not persuades and letter.products and unit(seed, "product", *key, n) < 0.3
        if product:
            url = letter.products[0]
            host.later(t_click, lambda: self._click_product(mail, url, t_click))
            return
        host.later(t_click, lambda: self._click_restore(letter, mail, t_click))
        if persuades:
            t_buy = t_click + timedelta(minutes=2 + round(13 * unit(seed, "buy-at", *key)))
            step = p.persuaded_by if p is not None else None
            host.later(t_buy, lambda: self._buy(case, letter, mail, t_buy, step))

    def _open(self, letter: Letter, mail: Mail, at: datetime) -> None:
        if letter.pixel is None:
            self.counts["no_pixel"] += 1
            return
        r = self.host.client.get(letter.pixel)
        mail.opened_at = at
        self.counts["opens"] += 1
        if r.status_code != 200 or r.headers.get("content-type") != "image/gif":
            self._violation("pixel_failed", at, mail.customer, mail.subject or "")

    def _click_restore(self, letter: Letter, mail: Mail, at: datetime) -> None:
        if letter.restore is None:
            self._violation("no_restore_link", at, mail.customer, mail.subject or "")
            return
        r = self.host.client.get(letter.restore, follow_redirects=False)
        self.counts["restore_clicks"] += 1
        mail.clicked_at = at
        self._check_redirect(r, mail, at)
        query = parse_qs(urlsplit(r.headers.get("location", "")).query)
        mail.step = (query.get("utm_content") or [None])[0]

    def _click_product(self, mail: Mail, url: str, at: datetime) -> None:
        r = self.host.client.get(url, follow_redirects=False)
        self.counts["product_clicks"] += 1
        mail.clicked_at = at
        self._check_redirect(r, mail, at)

    def _check_redirect(self, r: httpx.Response, mail: Mail, at: datetime) -> None:
        """The 302 must lead to the store's own domain (never an open redirect)."""
        host = urlsplit(r.headers.get("location", "")).hostname or ""
        domain = STORE[mail.store].domain
        if r.status_code != 302 or not (host == domain or host.endswith("." + domain)):
            self._violation("redirect_offsite", at, mail.customer, f"{r.status_code} {host}")

    def _unsubscribe(
        self, letter: Letter, who: tuple[str, str], at: datetime, *, one_click: bool
    ) -> None:
        if letter.unsubscribe is None:
            self._violation("no_unsubscribe_link", at, letter.recipient, "")
            return
        client = self.host.client
        if not one_click:  # people read the page first; it must change nothing
            page = client.get(letter.unsubscribe)
            if page.status_code != 200 or "<form" not in page.text:
                self._violation("unsubscribe_page", at, letter.recipient, str(page.status_code))
        r = client.post(
            letter.unsubscribe,
            content=b"List-Unsubscribe=One-Click" if one_click else b"confirm=1",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        self.counts["unsubscribes:one_click" if one_click else "unsubscribes:page"] += 1
        if r.status_code != 200:
            self._violation("unsubscribe_failed", at, letter.recipient, str(r.status_code))
            return
        self.unsubscribed[who] = at

    # -- coming back to buy -------------------------------------------------------------------

    def _buy(
        self, case: ExpectedCase, letter: Letter, mail: Mail, at: datetime, step: str | None
    ) -> None:
        key = (case.store, case.kind, case.subject)
        if step is not None and mail.step is not None and mail.step != step:
            # the restore link names the step: Reclaim sent the steps in another order
            self.counts["persuaded_by_another_step"] += 1
        if case.status != "open":  # closed in the meantime (a cancellation that raced)
            self.counts["persuaded_too_late"] += 1
            return
        if at >= self.end - timedelta(minutes=5):
            self.counts["persuaded_after_end"] += 1
            return
        co = self.plan.subjects.get((case.store, case.subject))
        if co is None:
            self.counts["persuaded_unknown_subject"] += 1
            return
        self.bought[key] = at
        self.counts[f"bought:{case.kind}"] += 1
        coupon = letter.coupon if case.kind == "abandoned_checkout" else None
        if coupon:
            self.counts["coupons_used"] += 1
        self.host.emitted(self._purchase(case, co, at, coupon))

    def _purchase(
        self, case: ExpectedCase, co: Checkout, at: datetime, coupon: str | None
    ) -> list[Emitted]:
        """Pay, as the platform would see it: the same order, the same checkout resumed, or
        a new checkout with the same cart when the old one can no longer be paid."""
        front = self.plan.fronts[co.store]
        before = len(front.out.items)
        if coupon:
            co.cart = replace(
                co.cart, discount=_discount(case.kind, co, self.holdout), codes=(coupon,)
            )
        order = co.order
        if case.kind == "pending_order" and order is not None and order.status != "paid":
            # The plan had it cancelled later by the store: that never happens now.
            order.status, order.cancelled_at = "pending", None
            self.host.drop_planned(co.store, order.order_id, at)
            front.order_paid(order, at)
        elif front.can_resume(co, at):
            self.host.drop_planned(co.store, co.checkout_id, at)
            if co.stage != "payment":
                front.step(co, at, "payment")
            front.pay(co, at + timedelta(seconds=90))
        else:
            again = front.open(co.actor, co.cart, at, contact=True)
            t = at
            for stage in ("contact", "shipping", "payment"):
                t += timedelta(minutes=1)
                front.step(again, t, stage)
            front.pay(again, t + timedelta(minutes=1))
        return list(front.out.items[before:])


def _discount(kind: str, co: Checkout, holdout: float) -> Decimal:
    """What the flow's incentive takes off this cart (the default: 10 % of the total)."""
    spec = next((s.incentive for s in flow_for(kind, holdout).steps if s.incentive), None)
    cart = co.cart
    if spec is None:
        return Decimal(0)
    if spec.kind == "percent":
        raw = cart.total * Decimal(str(spec.value)) / 100
    elif spec.kind == "fixed":
        raw = min(Decimal(str(spec.value)), cart.total)
    else:
        raw = cart.shipping
    return raw.quantize(Decimal(1).scaleb(-exponent(cart.currency)), rounding=ROUND_DOWN)


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")
