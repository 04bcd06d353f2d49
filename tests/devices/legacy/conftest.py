"""Fixtures of the seed-compatible API tests."""

import pytest

from tests.factories import measurement_type


@pytest.fixture(autouse=True)
def _temperature():
    """The type the firmware reports; a migration seeds it, but a transactional test elsewhere may
    have flushed it."""
    measurement_type("temperature")
