"""Reading GET /metrics in tests."""

from django.test import Client
from prometheus_client.parser import text_string_to_metric_families


def scrape(**headers) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} of a GET /metrics that must succeed."""
    response = Client().get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def sample(metrics: dict, name: str, **labels) -> float | None:
    return metrics.get((name, tuple(sorted(labels.items()))))
