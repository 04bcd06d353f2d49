"""Reads of the webhooks feature, shared by the receiving view, the API, the admin and tasks."""

import datetime as dt
import time

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from config.errors import NotFound
from integrations.models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookSecret


def secrets_active(*, at: dt.datetime | None = None) -> QuerySet[WebhookSecret]:
    at = at or timezone.now()
    return WebhookSecret.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at))


def endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.select_related("owner").prefetch_related("secrets")


# Receiving endpoints, per process: the receiving URL is what third parties hammer, and two
# queries per delivery cost more than verifying it. Changes made in this process clear it at
# once (receivers.py); other processes see them within WEBHOOKS_ENDPOINT_CACHE_SECONDS.
_receiving: dict[str, tuple[float, WebhookEndpoint]] = {}


def endpoint_for_receiving(*, token: str) -> WebhookEndpoint:
    """The active endpoint behind a receiving URL, with its active secrets in `active_secrets`.
    Unknown and inactive endpoints look the same to the caller."""
    now = time.monotonic()
    cached = _receiving.get(token)
    if cached is not None and cached[0] > now:
        return cached[1]
    endpoint = (
        WebhookEndpoint.objects.filter(token=token, is_active=True)
        .prefetch_related(Prefetch("secrets", queryset=secrets_active(), to_attr="active_secrets"))
        .first()
    )
    if endpoint is None:
        _receiving.pop(token, None)
        raise NotFound("Webhook endpoint not found.")
    ttl = settings.WEBHOOKS_ENDPOINT_CACHE_SECONDS
    if ttl > 0:
        _receiving[token] = (now + ttl, endpoint)
    return endpoint


def receiving_cache_clear() -> None:
    """Forget the cached receiving endpoints of this process (`receivers.py` calls it on every
    change of an endpoint or a secret)."""
    _receiving.clear()


def endpoint_receive_url(*, endpoint: WebhookEndpoint, request: HttpRequest | None = None) -> str:
    path = reverse("webhook-receive", kwargs={"endpoint_token": endpoint.token})
    return request.build_absolute_uri(path) if request is not None else path


def deliveries_never_attempted(*, received_before: dt.datetime, limit: int) -> list[int]:
    """Accepted deliveries no worker has tried yet: their task was lost (broker down, worker
    killed before it started)."""
    return list(
        WebhookDelivery.objects.filter(
            outcome=WebhookDelivery.Outcome.ACCEPTED,
            processed=False,
            attempts=0,
            received_at__lt=received_before,
        )
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
