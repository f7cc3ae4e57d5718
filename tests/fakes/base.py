"""What every fake repository shares: the unit of work whose working tables it reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fakes.state import Tables
    from fakes.uow import FakeUnitOfWork


class Repo:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    @property
    def t(self) -> Tables:
        return self._uow.tables

    def _next_id(self, table: str) -> int:
        return self._uow.next_id(table)


def unsupported(name: str) -> NotImplementedError:
    return NotImplementedError(f"the fake unit of work does not implement {name}")
