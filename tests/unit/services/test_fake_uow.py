"""The fake unit of work keeps the SQL one's transaction semantics: the service tests that
run through it are only as good as this."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from fakes import FakeDatabase, FakeUnitOfWork, UniqueViolation
from reclaim.domain.events import CheckoutObserved, Contact, LineItem
from reclaim.domain.facts import Checkout
from reclaim.domain.steps import MessageRecord, MessageStatus
from reclaim.errors import Conflict
from reclaim.services.ports import SentMark
from service_builders import T0


def _checkout(external_id: str = "c1", total: str = "10") -> Checkout:
    seen = CheckoutObserved(
        external_id=external_id,
        contact=Contact(email="ana@example.com"),
        currency="EUR",
        total=Decimal(total),
        created_at=T0,
        updated_at=T0,
        items=(LineItem(name="Mug", quantity=1, unit_price=Decimal(total)),),
    )
    return Checkout.new("st_1", seen, delay=timedelta(minutes=30))


def _message(step_id: int, status: MessageStatus = MessageStatus.QUEUED) -> MessageRecord:
    return MessageRecord(
        store_id="st_1",
        case_id=1,
        step_id=step_id,
        customer_key="e:ana@example.com",
        channel="email",
        purpose="marketing",
        template="abandoned_checkout/reminder",
        locale="de",
        recipient="ana@example.com",
        created_at=T0,
        status=status,
    )


def test_commit_keeps_and_leaving_without_commit_discards() -> None:
    uow = FakeUnitOfWork()
    with uow:
        uow.facts.add(_checkout("c1"))
        uow.commit()
        uow.facts.add(_checkout("c2"))
    with uow:
        assert uow.facts.checkout("st_1", "c1", lock=False) is not None
        assert uow.facts.checkout("st_1", "c2", lock=False) is None
    assert (uow.commits, uow.rollbacks) == (1, 0)


def test_what_a_transaction_returns_is_detached_after_it() -> None:
    uow = FakeUnitOfWork()
    with uow:
        uow.facts.add(_checkout())
        uow.commit()
    with uow:
        found = uow.facts.checkout("st_1", "c1", lock=True)
        assert found is uow.facts.checkout("st_1", "c1", lock=False)  # one identity per session
    assert found is not None
    found.total = Decimal(99)  # changed after its session ended: never written
    with uow:
        again = uow.facts.checkout("st_1", "c1", lock=False)
        assert again is not None and again is not found and again.total == Decimal(10)


def test_rollback_restores_the_objects_in_place_and_drops_new_rows() -> None:
    uow = FakeUnitOfWork()
    with uow:
        uow.facts.add(_checkout("c1"))
        uow.commit()
        held = uow.facts.checkout("st_1", "c1", lock=False)
        assert held is not None
        held.total = Decimal(50)
        uow.facts.add(_checkout("c2"))
        uow.rollback()
        assert held.total == Decimal(10)
        assert uow.facts.checkout("st_1", "c1", lock=False) is held
        assert uow.facts.checkout("st_1", "c2", lock=False) is None


def test_a_savepoint_left_by_an_exception_undoes_only_its_own_work() -> None:
    uow = FakeUnitOfWork()
    with uow:
        uow.facts.add(_checkout("c1"))
        with pytest.raises(RuntimeError), uow.savepoint():
            uow.facts.add(_checkout("c2"))
            raise RuntimeError("boom")
        uow.commit()
    with uow:
        assert uow.facts.checkout("st_1", "c1", lock=False) is not None
        assert uow.facts.checkout("st_1", "c2", lock=False) is None


def test_ids_come_from_sequences_a_rollback_does_not_rewind() -> None:
    uow = FakeUnitOfWork()
    with uow:
        first = _checkout("c1")
        uow.facts.add(first)
    with uow:
        second = _checkout("c1")
        uow.facts.add(second)
        uow.commit()
    assert (first.id, second.id) == (1, 2)
    assert [c.external_id for c in uow.rows("checkouts")] == ["c1"]


def test_a_fact_under_a_taken_key_conflicts_at_flush() -> None:
    uow = FakeUnitOfWork()
    with uow:
        uow.facts.add(_checkout("c1"))
        uow.facts.add(_checkout("c1"))
        with pytest.raises(Conflict):
            uow.facts.flush()
        uow.facts.flush()  # reported once


def test_unique_keys_of_messages_and_repositories_outside_a_transaction() -> None:
    uow = FakeUnitOfWork()
    with uow:
        uow.messages.add(_message(7))
        with pytest.raises(UniqueViolation):
            uow.messages.add(_message(7))
    with pytest.raises(RuntimeError, match="outside"):
        uow.messages.get(1)
    with uow, pytest.raises(RuntimeError, match="already in use"):
        uow.__enter__()


def test_hand_over_marks_the_one_before_sent_and_this_one_sending_once() -> None:
    uow = FakeUnitOfWork()
    with uow:
        uow.messages.add_many([_message(1), _message(2)])
        assert uow.messages.hand_over(1, subject="Hallo")
        mark = SentMark(1, T0, "q-1", None)
        assert uow.messages.hand_over(2, sent=mark, subject=None)
        assert not uow.messages.hand_over(2)  # not queued any more
        one, two = uow.messages.get(1), uow.messages.get(2)
        assert one is not None and two is not None
        assert (one.status, one.sent_at, one.provider_id, one.subject) == (
            "sent",
            T0,
            "q-1",
            "Hallo",
        )
        assert (two.status, two.subject) == ("sending", None)


def test_two_units_of_work_share_one_database() -> None:
    db = FakeDatabase()
    writer, reader = db.uow(), db.uow(row_locks=False)
    with writer:
        writer.facts.add(_checkout())
        with reader:
            assert reader.facts.checkout("st_1", "c1", lock=False) is None  # not committed
        writer.commit()
    with reader:
        assert reader.facts.checkout("st_1", "c1", lock=False) is not None
    assert (writer.row_locks, reader.row_locks) == (True, False)
