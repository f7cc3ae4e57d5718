"""The coupons Reclaim issued, for the merchant: where each stands on the store's platform
(pushed, left to import, not tried yet), and whether it was redeemed (SPEC S6); and how one
is made and created on the store's platform, by a flow's incentive step or by a person from
the console alike (:func:`issue_coupon`, :func:`push_coupon`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from reclaim.domain.audit import Actor
from reclaim.domain.cases import Case
from reclaim.domain.incentives import Offer, new_coupon_code
from reclaim.domain.steps import Coupon
from reclaim.domain.stores import Store
from reclaim.errors import DeliveryError, InvalidInput, NotFound
from reclaim.services.audit import record
from reclaim.services.ports import PlatformClient, UnitOfWork

PUSH_STATES = ("pushed", "exported", "none")
MAX_PAGE = 1000


def issue_coupon(
    uow: UnitOfWork,
    store: Store,
    case: Case,
    offer: Offer,
    now: datetime,
    *,
    by: str | None = None,
) -> Coupon:
    """Make ``offer`` a single-use coupon of ``case`` under a new unique code, with a
    ``coupon_issued`` event on the case's timeline (``by``: the person who issued it, if one
    did). In the caller's transaction; not yet on the store's platform (:func:`push_coupon`)."""
    assert case.id is not None
    for _ in range(8):  # 10 characters of 31 symbols: a collision is a ~1e-15 event
        code = new_coupon_code()
        coupon = Coupon(
            store_id=store.id,
            case_id=case.id,
            # Stripe's promotion codes are letters and digits only: shown as pushed there.
            code=code.replace("-", "") if store.platform == "stripe" else code,
            kind=offer.kind,
            value=offer.value,
            discount=offer.discount,
            currency=offer.currency,
            min_order=offer.min_order,
            expires_at=offer.expires_at,
            created_at=now,
        )
        if uow.coupons.add(coupon):
            data: dict[str, object] = {"code": coupon.code}
            if by is not None:
                data["by"] = by
            uow.cases.add_event(case.id, at=now, type="coupon_issued", data=data)
            return coupon
    raise RuntimeError("could not draw an unused coupon code")


@dataclass(frozen=True, slots=True)
class PushOutcome:
    """What creating a coupon on the store's platform came to (:func:`push_coupon`)."""

    state: str | None  # "pushed", "exported" (no connector: imported), None (failed)
    ref: str | None
    error: str | None
    refused_access: tuple[str, int] | None = None  # (platform, 401|403): credentials refused
    unavailable: bool = False  # no connector, and the operator does not import codes
    permanent: bool = False  # a failure that trying again will not mend
    code: int | None = None  # the platform's status code for a failure, if it gave one


def push_coupon(
    platforms: PlatformClient, store: Store, coupon: Coupon, now: datetime
) -> PushOutcome:
    """Create ``coupon`` on its store's platform (outside any transaction: the platform's API
    is called). Without API access the coupon is left "exported" for the merchant to import
    where the store says it does (``coupons_imported``), else it is unavailable. Pushing again
    after a crash is safe: each platform's adapter finds a code it already has."""
    try:
        ref = platforms.create_coupon(store, coupon, now=now)
    except DeliveryError as exc:
        error = str(exc)[:500]
        if exc.permanent and exc.code is None and store.settings.coupons_imported:
            return PushOutcome("exported", None, error)  # the merchant imports the codes
        if exc.permanent and exc.code is None:  # no API access (taken away since it was made)
            return PushOutcome(None, None, error, unavailable=True, permanent=True)
        denied = (store.platform, exc.code) if exc.permanent and exc.code in (401, 403) else None
        return PushOutcome(None, None, error, denied, permanent=exc.permanent, code=exc.code)
    return PushOutcome("pushed", ref, None)


def keep_push(uow: UnitOfWork, coupon: Coupon, push: PushOutcome, now: datetime) -> Coupon:
    """Record ``push`` on ``coupon`` in a transaction of its own (:func:`note_push`); the
    coupon as it now stands."""
    assert coupon.id is not None
    with uow:
        found = uow.coupons.get_many([coupon.id]).get(coupon.id)
        if found is None:  # erased meanwhile
            return coupon
        note_push(uow, found, state=push.state, ref=push.ref, error=push.error, now=now)
        uow.commit()
        return found


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
        if uow.stores.get(store_id) is None:
            raise NotFound(f"no store {store_id[:40]!r}")
        found = list(
            uow.coupons.listed(
                store_id, push_state=push_state, since=since, limit=limit + 1, after_id=cursor or 0
            )
        )
    more = len(found) > limit
    page = found[:limit]
    return CouponPage(page, page[-1].id if more and page else None)


@dataclass(slots=True)
class PushStats:
    pushed: int = 0
    failed: int = 0  # the platform refused it or is down (tried again by the next push)
    no_connector: str | None = None  # why none could: no connector yet, or access refused
    errors: list[str] = field(default_factory=list)  # the first few reasons, for the operator


def push_exported(
    *,
    uow: UnitOfWork,
    platforms: PlatformClient,
    store_id: str,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
    actor: Actor | None = None,
) -> PushStats:
    """Create on the store's platform the coupons left to import because it had no connector
    when they were mailed, now that it has one: those still valid (unexpired, unredeemed).
    Each is recorded as it goes (a crash leaves the rest exported; pushing again is safe).
    ``progress(done, total)`` is called after each."""
    with uow:
        store = uow.stores.get(store_id)
        if store is None:
            raise NotFound(f"no store {store_id[:40]!r}")
        waiting: list[Coupon] = []
        after = 0
        while True:
            page = list(
                uow.coupons.listed(store_id, push_state="exported", limit=MAX_PAGE, after_id=after)
            )
            waiting += [c for c in page if c.expires_at > now and c.redeemed_at is None]
            if len(page) < MAX_PAGE:
                break
            after = page[-1].id or after
    stats = PushStats()
    for done, coupon in enumerate(waiting, start=1):
        try:
            ref = platforms.create_coupon(store, coupon, now=now)
        except DeliveryError as exc:
            if exc.permanent and exc.code in (None, 401, 403):  # none will go: say why, stop
                stats.no_connector = str(exc)
                break
            stats.failed += 1
            if len(stats.errors) < 5:
                stats.errors.append(f"{coupon.code}: {exc}")
            _record(uow, coupon, state="exported", ref=None, error=str(exc)[:500], now=now)
        else:
            stats.pushed += 1
            _record(uow, coupon, state="pushed", ref=ref, error=None, now=now)
        if progress is not None:
            progress(done, len(waiting))
    if stats.pushed or stats.failed:
        with uow:
            counts = {"pushed": stats.pushed, "failed": stats.failed}
            record(uow, actor, "coupons.push", store_id, store_id=store_id, after=counts)
            uow.commit()
    return stats


def note_push(
    uow: UnitOfWork,
    coupon: Coupon,
    *,
    state: str | None,
    ref: str | None,
    error: str | None,
    now: datetime,
) -> None:
    """Keep what pushing ``coupon`` to its store's platform came to (``state``: "pushed",
    "exported", None for a failure tried again); a new state goes on the case's timeline
    (``coupon_pushed`` / ``coupon_exported``). In the caller's transaction."""
    changed = state is not None and state != coupon.push_state
    coupon.push_state, coupon.push_error = state, error
    if state == "pushed":
        coupon.platform_ref, coupon.pushed_at = ref, now
    if changed:
        data: dict[str, object] = {"code": coupon.code, "platform_ref": ref}
        if error:
            data["why"] = error
        uow.cases.add_event(coupon.case_id, at=now, type=f"coupon_{state}", data=data)


def _record(
    uow: UnitOfWork,
    coupon: Coupon,
    *,
    state: str,
    ref: str | None,
    error: str | None,
    now: datetime,
) -> None:
    assert coupon.id is not None
    with uow:
        found = uow.coupons.get_many([coupon.id]).get(coupon.id)
        if found is not None:
            note_push(uow, found, state=state, ref=ref, error=error, now=now)
            uow.commit()
