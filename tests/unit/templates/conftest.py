"""Fixtures of the template tests (helpers live in template_helpers.py)."""

from __future__ import annotations

import pytest

from reclaim.adapters.templates import TemplateRenderer


@pytest.fixture(scope="session")
def renderer() -> TemplateRenderer:
    return TemplateRenderer()
