"""Schemathesis over ``/openapi.json`` (issue 16): every documented operation, called on the
ASGI app with inputs drawn from its schema, answers without a 5xx and within its documented
schema (status code, content type, body).

The calls carry a real API key with every scope, of a real store holding open cases, so
authenticated routes are reached beyond their 401; inputs are drawn valid (positive) and
invalid (negative). Platform webhooks are left out: a request without a valid signature
never reaches what follows it, and signed hostile deliveries are fuzzed by
tests/integration/test_fuzz_webhooks.py and tests/e2e/test_hostile_server.py.

Bounded: at most ``EXAMPLES`` examples an operation and mode, no shrinking, no example
database: about 1,000 requests in under a minute on two cores. Checked to fail: before
``api/errors.py`` documented the refusals, every 422 answered outside FastAPI's
``HTTPValidationError`` and 400/404/422 were undocumented for most routes (41
operation-modes of 58 failed).
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from helpers import checkout_event, client, make_store, post_events
from reclaim.bootstrap import Runtime
from reclaim.domain.stores import SCOPES
from reclaim.entrypoints.api import create_app
from reclaim.entrypoints.worker import run_once
from reclaim.services.stores import add_key

pytestmark = pytest.mark.slow

EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


def test_every_operation_answers_without_5xx_and_within_its_schema(
    sqlite_rt: Runtime, clock: Any
) -> None:
    rt = sqlite_rt
    store = make_store(rt, postal_address="Boutique, 1 rue de Rivoli, 75001 Paris")
    key = add_key(uow=rt.uow(), store_id=store.id, scopes=SCOPES, now=clock.now).api_key
    at = clock.now - timedelta(hours=2)
    events = [checkout_event(at, checkout_id=f"c{i}", email=f"b{i}@example.org") for i in range(3)]
    assert post_events(client(rt), store.api_key, events).status_code == 202
    run_once(rt, clock.now)
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(rt))
    operations = [o.ok() for o in schema.exclude(tag="webhooks").get_all_operations()]
    sent: Counter[str] = Counter()
    failures: dict[str, str] = {}
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            label = f"{operation.label} ({mode.value})"
            try:
                fuzz(operation, mode, key, label, sent)
            except Unsatisfiable:  # no input to get wrong (no parameters, no body)
                continue
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis's FailureGroup
                failures[label] = str(exc)[:3000]
    print(f"\n[schemathesis] {len(operations)} operations, {sum(sent.values())} requests fuzzed")
    assert len(operations) >= 25 and all(sent[f"{o.label} (positive)"] for o in operations)
    assert failures == {}, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())


def fuzz(operation: Any, mode: GenerationMode, key: str, label: str, sent: Counter[str]) -> None:
    """Up to ``EXAMPLES`` calls of ``operation`` with inputs drawn in ``mode``, each checked."""

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=EXAMPLES,
        phases=[Phase.explicit, Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Any) -> None:
        sent[label] += 1
        case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)

    call()
