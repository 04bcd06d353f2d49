"""`openweathermap.current_weather`: city → temperature and description.

Wire format (API 2.5): `GET /data/2.5/weather?q=<city>&appid=<key>&units=metric` answers
`{"name": "London", "main": {"temp": 11.6, ...}, "weather": [{"description": "overcast clouds"}],
"dt": 1700000000, "sys": {"country": "GB"}, "cod": 200}`; errors are
`{"cod": 401, "message": "Invalid API key. ..."}` and `{"cod": "404", "message": "city not found"}`
(note the string code). Fixtures captured from the service are in `fixtures/`.
"""

import datetime as dt

from django.conf import settings

from integrations import outbound
from integrations.registry import (
    BaseIntegration,
    Category,
    ErrorCode,
    IntegrationMetadata,
    IntegrationResult,
    upstream_message,
)

SERVICE = "openweathermap"


class CurrentWeather(BaseIntegration):
    service_label = "OpenWeatherMap"
    metadata = IntegrationMetadata(
        id="openweathermap.current_weather",
        version="1.0.0",
        name="OpenWeatherMap: current weather",
        description="Current temperature and conditions in a city.",
        category=Category.WEATHER,
        config_schema={
            "type": "object",
            "properties": {
                "city": {"type": "string", "minLength": 1, "maxLength": 100, "description": "e.g. London or London,GB"},
                "units": {"enum": ["metric", "imperial", "standard"], "default": "metric"},
                "lang": {"type": "string", "pattern": "^[a-z]{2}(_[a-z]{2})?$", "description": "e.g. en, uk, pt_br"},
            },
            "required": ["city"],
            "additionalProperties": False,
        },
        library="httpx through the outbound layer",
        side_effecting=False,
        cache_ttl=600,
        credentials_provider=SERVICE,
        credentials_strategy="api_key",
        credentials_required=True,
        credentials_setting="OPENWEATHERMAP_API_KEY",
    )

    def execute(self, config, *, owner=None, context=None) -> IntegrationResult:
        city = config["city"].strip()
        units = config.get("units", "metric")
        base_url = settings.INTEGRATIONS_OPENWEATHERMAP_API_URL.rstrip("/")
        # The weather does not depend on whose key asked: one cache entry per city.
        cache_key_parts = [base_url, city.casefold(), units, config.get("lang")]
        try:
            # A hit needs no key: the credential (a query and a decryption) only for a call.
            answer = outbound.cached(integration=SERVICE, operation="current_weather", cache_key_parts=cache_key_parts)
            if answer is None:
                answer = self._call(config, owner=owner, base_url=base_url, cache_key_parts=cache_key_parts)
        except outbound.IntegrationNotFound:
            return IntegrationResult.failure(ErrorCode.NOT_FOUND, "City not found.")
        if isinstance(answer, IntegrationResult):
            return answer
        data = answer.data
        try:
            result = {
                "city": str(data["name"]),
                "country": (data.get("sys") or {}).get("country"),
                "temperature": float(data["main"]["temp"]),
                "feels_like": data["main"].get("feels_like"),
                "humidity": data["main"].get("humidity"),
                "description": str(data["weather"][0]["description"]),
                "units": units,
                "observed_at": dt.datetime.fromtimestamp(int(data["dt"]), tz=dt.UTC).isoformat(),
            }
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            return self.unexpected_format()
        return IntegrationResult.success(result, source=answer.source, stale=answer.stale)

    def _call(self, config, *, owner, base_url: str, cache_key_parts: list):
        """The service's answer (cached for next time), or the failure to return instead."""
        secret = self.resolve_secret(owner)
        if secret is None:
            return self.missing_credentials()
        params = {"q": config["city"].strip(), "units": config.get("units", "metric")}
        if config.get("lang"):
            params["lang"] = config["lang"]
        # A stored credential says where its key goes; the setting is OpenWeatherMap's `appid`.
        request = {"params": params}
        if secret.credential:
            request = secret.credential.apply(request)
        else:
            params["appid"] = secret.value
        try:
            return outbound.request(
                integration=SERVICE,
                operation="current_weather",
                method="GET",
                url=f"{base_url}/data/2.5/weather",
                params=request["params"],
                headers=request.get("headers"),
                auth=request.get("auth"),
                cache_ttl=self.metadata.cache_ttl,
                cache_key_parts=cache_key_parts,
            )
        except outbound.IntegrationNotFound:
            raise
        except outbound.OutboundError as exc:
            return self.failure_upstream(exc, upstream_message(exc.body), secret=secret)
