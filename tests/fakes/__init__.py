"""Test doubles at the ports (:mod:`reclaim.services.ports`): an in-memory unit of work whose
repositories keep the SQL ones' semantics, senders and a platform client that record what
they were asked to do, and a fixed clock. Service tests run through them with no database.

``tests/`` is on ``sys.path`` (pytest's rootdir conftest), so tests import ``fakes``.
"""

from fakes.channels import (
    FakePlatformClient,
    FakeSenders,
    FixedClock,
    channels,
    permanent,
    temporary,
)
from fakes.state import FakeDelivery, Tables, UniqueViolation
from fakes.uow import FakeDatabase, FakeUnitOfWork

__all__ = [
    "FakeDatabase",
    "FakeDelivery",
    "FakePlatformClient",
    "FakeSenders",
    "FakeUnitOfWork",
    "FixedClock",
    "Tables",
    "UniqueViolation",
    "channels",
    "permanent",
    "temporary",
]
