"""System check of integration runs: their timing against the broker's redelivery."""

from django.conf import settings
from django.core import checks

from integrations.runs.services import MAX_COUNTDOWN_SECONDS


@checks.register("integrations")
def check_run_timing(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """The broker's visibility timeout must outlast the longest retry countdown plus a run's lease,
    or Redis hands a waiting or running task out twice (harmless, but recovery's job)."""
    lease = float(settings.INTEGRATIONS_RUN_LEASE_SECONDS)
    visibility = (settings.CELERY_BROKER_TRANSPORT_OPTIONS or {}).get("visibility_timeout", 3600)
    on_redis = str(settings.CELERY_BROKER_URL).startswith(("redis://", "rediss://"))
    if on_redis and visibility <= MAX_COUNTDOWN_SECONDS + lease:
        return [
            checks.Warning(
                f"The broker's visibility_timeout ({visibility} s) is not longer than the longest retry countdown "
                f"plus a run's lease ({MAX_COUNTDOWN_SECONDS + lease:.0f} s): Redis would hand those tasks out twice.",
                id="integrations.W004",
            )
        ]
    if lease < 3:
        return [checks.Warning("INTEGRATIONS_RUN_LEASE_SECONDS below 3 renews too often.", id="integrations.W003")]
    return []
