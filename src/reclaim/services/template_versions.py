"""A store's own templates as the console shows them (SPEC S11): which it has, every saved
version (``template_versions``, written by :func:`services.templates.save_template` and
:func:`~services.templates.delete_template`), a diff between two, a rollback (an old version
saved again as the current one, audited), and the context a preview renders: a real case of
the store or the sample customer."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from reclaim.domain.audit import Actor
from reclaim.domain.messages import ItemView, MessageContext
from reclaim.domain.stores import Store
from reclaim.errors import NotFound
from reclaim.services.audit import record
from reclaim.services.ports import TemplateVersion, UnitOfWork
from reclaim.services.templates import (
    CostCheck,
    cost_sample,
    sample_context,
    saved_by,
    store_view,
)

PARTS = ("subject", "html", "text")


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One line of a diff: ``op`` is ``" "`` (both), ``"-"`` (only the old), ``"+"`` (only
    the new) or ``"@"`` (a hunk's start)."""

    op: str
    text: str


def store_templates(*, uow: UnitOfWork, store_id: str) -> list[tuple[str, str, str, datetime]]:
    """The store's own templates: (key, channel, locale, updated_at)."""
    with uow:
        return list(uow.templates.listed(store_id))


def list_versions(
    *, uow: UnitOfWork, store_id: str, key: str, channel: str, locale: str, limit: int = 50
) -> list[TemplateVersion]:
    """The template's saved versions, newest first."""
    with uow:
        return list(uow.templates.versions(store_id, key, channel, locale, limit=limit))


def get_version(*, uow: UnitOfWork, store_id: str, version_id: int) -> TemplateVersion:
    """One version of one of the store's templates; NotFound for another store's."""
    with uow:
        found = uow.templates.version(version_id)
    if found is None or found.store_id != store_id:
        raise NotFound("no such template version")
    return found


def parts_of(compiled: Mapping[str, Any] | None) -> dict[str, str]:
    """The text of each part of a stored template ("" for a part it lacks, or a reset)."""
    data = compiled or {}
    return {name: str(data.get(name) or "") for name in PARTS}


def diff_lines(old: str, new: str) -> list[DiffLine]:
    """The lines of a unified diff from ``old`` to ``new`` (no file headers; each hunk's
    ``@@`` line kept as op ``"@"``, where unchanged lines in between are left out)."""
    found: list[DiffLine] = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=3):
        if line.startswith(("---", "+++")):
            continue
        found.append(DiffLine("@" if line.startswith("@@") else line[0], line[1:]))
    return found


def diff_parts(
    old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
) -> dict[str, list[DiffLine]]:
    """Per part that differs, the diff from ``old``'s text to ``new``'s."""
    before, after = parts_of(old), parts_of(new)
    return {
        name: diff_lines(before[name], after[name]) for name in PARTS if before[name] != after[name]
    }


def rollback_template(
    *,
    uow: UnitOfWork,
    store_id: str,
    version_id: int,
    now: datetime,
    cost_check: CostCheck,
    actor: Actor | None,
) -> TemplateVersion:
    """Make version ``version_id`` the store's template again (a reset version: go back to
    the default), as a new version; checked as any save is; audited ``template.rollback``."""
    with uow:
        old = uow.templates.version(version_id)
        store = uow.stores.get(store_id)
        if old is None or old.store_id != store_id or store is None:
            raise NotFound("no such template version")
        slot = {"key": old.key, "channel": old.channel, "locale": old.locale}
        if old.compiled is None:
            uow.templates.delete(store_id=store_id, **slot)
        else:
            sample = cost_sample(
                key=old.key,
                locale=old.locale,
                store=store_view(store),
                public_url=f"https://{store.domain}",
                now=now,
            )
            cost_check(old.compiled, sample)
            uow.templates.put(store_id=store_id, compiled=dict(old.compiled), now=now, **slot)
        uow.templates.add_version(
            store_id=store_id,
            compiled=None if old.compiled is None else dict(old.compiled),
            saved_at=now,
            saved_by=saved_by(actor),
            **slot,
        )
        record(
            uow,
            actor,
            "template.rollback",
            f"{old.key}/{old.channel}/{old.locale}",
            store_id=store_id,
            after={"version": version_id, "custom": old.compiled is not None},
        )
        uow.commit()
        return old


def preview_context(
    *,
    uow: UnitOfWork,
    store: Store,
    key: str,
    locale: str,
    public_url: str,
    now: datetime,
    case_id: int | None = None,
) -> MessageContext:
    """What a preview renders ``key`` for: the sample customer, or, given ``case_id``, that
    case of ``store`` (its first name, items, total, reason, order) in ``locale``, with
    preview links instead of tracked ones. NotFound for a case of another store."""
    base = sample_context(
        key=key, locale=locale, store=store_view(store), public_url=public_url, now=now
    )
    if case_id is None:
        return base
    with uow:
        case = uow.cases.get(case_id, store_id=store.id)
    if case is None or case.store_id != store.id:
        raise NotFound("no such case")
    items = tuple(
        ItemView(
            name=item.name,
            quantity=item.quantity,
            unit_price=item.unit_price,
            image_url=item.image_url if (item.image_url or "").startswith("https://") else None,
            sku=item.sku,
            total=item.line_total,
        )
        for item in case.items
    )
    return replace(
        base,
        timezone=case.customer_timezone or store.timezone,
        currency=case.currency,
        first_name=case.contact.first_name,
        items=items,
        total=Decimal(case.value),
        reason=case.reason if case.kind in ("failed_payment", "shipment_exception") else None,
        order_number=case.order_external_id or base.order_number,
        coupon=None if base.coupon is None else replace(base.coupon, currency=case.currency),
    )
