"""`exchangerate.latest`: base currency → exchange rates, from ExchangeRate-API's open access.

Wire format: `GET https://open.er-api.com/v6/latest/USD` answers
`{"result": "success", "base_code": "USD", "time_last_update_unix": 1700006401,
"time_next_update_unix": 1700093801, "rates": {"USD": 1, "EUR": 0.9197, ...}, ...}`; an
unknown currency answers `{"result": "error", "error-type": "unsupported-code"}` (404 — with
a 200 status in some deployments, so the body is checked too); rate limiting is a 429. No key.
Rates are refreshed once a day upstream; we cache them for an hour.
"""

import datetime as dt

from django.conf import settings

from integrations import outbound
from integrations.registry import BaseIntegration, Category, ErrorCode, IntegrationMetadata, IntegrationResult

SERVICE = "exchangerate"
CURRENCY = "^[A-Z]{3}$"


def _iso(unix) -> str | None:
    return dt.datetime.fromtimestamp(int(unix), tz=dt.UTC).isoformat() if unix else None


def _error_type(body) -> str | None:
    if isinstance(body, dict) and body.get("result") == "error":
        return str(body.get("error-type") or "unknown")
    return None


class LatestRates(BaseIntegration):
    service_label = "ExchangeRate-API"
    metadata = IntegrationMetadata(
        id="exchangerate.latest",
        version="1.0.0",
        name="Exchange rates: latest",
        description="Latest exchange rates of a base currency (ExchangeRate-API open access, daily updates).",
        category=Category.PAYMENTS,
        config_schema={
            "type": "object",
            "properties": {
                "base": {"type": "string", "pattern": CURRENCY, "description": "ISO 4217 code, e.g. USD"},
                "symbols": {
                    "type": "array",
                    "items": {"type": "string", "pattern": CURRENCY},
                    "uniqueItems": True,
                    "minItems": 1,
                    "maxItems": 50,
                    "description": "Only these currencies (default: all).",
                },
            },
            "required": ["base"],
            "additionalProperties": False,
        },
        library="httpx through the outbound layer",
        side_effecting=False,
        cache_ttl=3600,
    )

    def execute(self, config, *, owner=None, context=None) -> IntegrationResult:
        base = config["base"]
        base_url = settings.INTEGRATIONS_EXCHANGERATE_API_URL.rstrip("/")
        try:
            answer = outbound.request(
                integration=SERVICE,
                operation="latest",
                method="GET",
                url=f"{base_url}/v6/latest/{base}",
                cache_ttl=self.metadata.cache_ttl,
            )
        except outbound.IntegrationNotFound as exc:
            return IntegrationResult.failure(
                ErrorCode.NOT_FOUND, f"Unsupported currency code {base} ({_error_type(exc.body) or 'not found'})."
            )
        except outbound.OutboundError as exc:
            return self.failure_upstream(exc, _error_type(exc.body))
        data = answer.data
        error_type = _error_type(data)
        if error_type == "unsupported-code":
            return IntegrationResult.failure(ErrorCode.NOT_FOUND, f"Unsupported currency code {base}.")
        if error_type is not None:
            return IntegrationResult.failure(ErrorCode.UPSTREAM_ERROR, f"ExchangeRate-API: {error_type}")
        try:
            rates = {str(code): float(rate) for code, rate in data["rates"].items()}
            if data.get("result") != "success":
                raise ValueError
            result = {
                "base": str(data["base_code"]),
                "updated_at": _iso(data.get("time_last_update_unix")),
                "next_update_at": _iso(data.get("time_next_update_unix")),
                "rates": rates,
            }
        except (KeyError, TypeError, ValueError, AttributeError):
            return self.unexpected_format()
        if config.get("symbols"):
            missing = [code for code in config["symbols"] if code not in rates]
            if missing:
                return IntegrationResult.failure(ErrorCode.NOT_FOUND, f"No rate for {', '.join(missing)}.")
            result["rates"] = {code: rates[code] for code in config["symbols"]}
        return IntegrationResult.success(result, source=answer.source, stale=answer.stale)

    def summarize(self, result: dict) -> dict:
        return {"base": result["base"], "updated_at": result["updated_at"], "rates_count": len(result["rates"])}
