"""SQLAlchemy repository for the coupons issued to cases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, select
from sqlalchemy.orm import Session

from reclaim.adapters.db.repos.inserts import insert_ignore
from reclaim.adapters.db.tables import coupons
from reclaim.domain.steps import Coupon


class SqlCoupons:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, coupon: Coupon) -> bool:
        """False when the code is taken (the caller draws another)."""
        res: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            insert_ignore(self.s, coupons)
            .values(
                store_id=coupon.store_id,
                case_id=coupon.case_id,
                code=coupon.code,
                kind=coupon.kind,
                value=coupon.value,
                discount=coupon.discount,
                currency=coupon.currency,
                min_order=coupon.min_order,
                expires_at=coupon.expires_at,
                created_at=coupon.created_at,
            )
            .returning(coupons.c.id)
        )
        found = res.scalar()
        if found is None:
            return False
        coupon.id = int(found)
        return True

    def for_case(self, case_id: int) -> Sequence[Coupon]:
        return self.s.scalars(
            select(Coupon).where(coupons.c.case_id == case_id).order_by(coupons.c.id)
        ).all()

    def by_code(self, store_id: str, code: str) -> Coupon | None:
        return self.s.scalars(
            select(Coupon).where(coupons.c.store_id == store_id, coupons.c.code == code)
        ).first()

    def by_platform_ref(self, store_id: str, ref: str) -> Coupon | None:
        return self.s.scalars(
            select(Coupon).where(coupons.c.store_id == store_id, coupons.c.platform_ref == ref)
        ).first()

    def get_many(self, ids: Sequence[int]) -> dict[int, Coupon]:
        if not ids:
            return {}
        found = self.s.scalars(select(Coupon).where(coupons.c.id.in_(sorted(set(ids))))).all()
        return {c.id: c for c in found if c.id is not None}

    def listed(
        self,
        store_id: str,
        *,
        push_state: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
        after_id: int = 0,
    ) -> Sequence[Coupon]:
        """A store's coupons in issue order (``after_id``: the page after that id);
        ``push_state="none"`` selects those not tried yet."""
        q = select(Coupon).where(coupons.c.store_id == store_id, coupons.c.id > after_id)
        if push_state == "none":
            q = q.where(coupons.c.push_state.is_(None))
        elif push_state is not None:
            q = q.where(coupons.c.push_state == push_state)
        if since is not None:
            q = q.where(coupons.c.created_at >= since)
        return self.s.scalars(q.order_by(coupons.c.id).limit(limit)).all()
