"""Writes of the outbound layer, shared by the API, the admin and tasks."""

from integrations.outbound import cache as outbound_cache


def outbound_cache_clear(*, integration: str | None = None) -> None:
    """Forget every cached answer of `integration` (of every integration when None). O(1)."""
    outbound_cache.bump_generation(integration)
