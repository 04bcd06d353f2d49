"""exchangerate.latest against a fake speaking ExchangeRate-API's open-access wire format."""

import pytest

from integrations.registry import registry
from tests.integrations.providers.fakes import fixture

pytestmark = pytest.mark.django_db

LATEST = "/v6/latest/USD"


def latest(config):
    return registry.get("exchangerate.latest").execute(config)


def test_base_currency_to_rates(fake_services):
    fake_services.expect_request(LATEST).respond_with_json(fixture("exchangerate", "latest_usd"))

    result = latest({"base": "USD"})

    assert result.ok, result.error
    assert result.result["base"] == "USD"
    assert result.result["updated_at"] == "2023-11-15T00:00:01+00:00"
    assert result.result["next_update_at"] == "2023-11-16T00:16:41+00:00"
    assert result.result["rates"]["EUR"] == 0.919723
    assert len(result.result["rates"]) == 7


def test_symbols_narrow_the_rates_and_share_the_cached_answer(fake_services):
    fake_services.expect_request(LATEST).respond_with_json(fixture("exchangerate", "latest_usd"))

    every = latest({"base": "USD"})
    some = latest({"base": "USD", "symbols": ["EUR", "UAH"]})

    assert some.result["rates"] == {"EUR": 0.919723, "UAH": 36.2144}
    assert (every.source, some.source) == ("api", "cache")
    assert len(fake_services.log) == 1


def test_a_run_keeps_a_short_summary_not_every_rate(fake_services):
    fake_services.expect_request(LATEST).respond_with_json(fixture("exchangerate", "latest_usd"))
    integration = registry.get("exchangerate.latest")

    summary = integration.summarize(latest({"base": "USD"}).result)

    assert summary == {"base": "USD", "updated_at": "2023-11-15T00:00:01+00:00", "rates_count": 7}


@pytest.mark.parametrize("status", [404, 200], ids=["as-404", "as-200"])
def test_an_unsupported_currency_is_not_found(fake_services, status):
    fake_services.expect_request("/v6/latest/XYZ").respond_with_json(
        fixture("exchangerate", "unsupported_code"), status=status
    )

    result = latest({"base": "XYZ"})

    assert (result.ok, result.error.code) == (False, "not_found")
    assert "XYZ" in result.error.message


def test_a_symbol_without_a_rate_is_not_found(fake_services):
    fake_services.expect_request(LATEST).respond_with_json(fixture("exchangerate", "latest_usd"))

    result = latest({"base": "USD", "symbols": ["EUR", "BTC"]})

    assert (result.error.code, result.error.message) == ("not_found", "No rate for BTC.")
