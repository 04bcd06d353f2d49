"""Writes of webhook endpoints and their signing secrets: create, update, delete, rotate. The
management API and the admin call these functions."""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config.errors import Conflict, DomainError
from config.services import model_update
from devices.models import Owner
from integrations.models.webhooks import (
    SECRET_GRACE_MAX_SECONDS,
    TOLERANCE_MAX_SECONDS,
    TOLERANCE_MIN_SECONDS,
    WebhookEndpoint,
    WebhookSecret,
)
from integrations.secrets import secret_box
from integrations.webhooks import selectors, signatures

logger = logging.getLogger(__name__)

UPDATABLE_FIELDS = ("name", "tolerance_seconds", "is_active", "owner")


def scheme_checked(name: str) -> signatures.Scheme:
    """The signature scheme called `name`; a DomainError on the `scheme` field when none is."""
    try:
        return signatures.scheme_get(name)
    except KeyError:
        choices = ", ".join(signatures.SCHEMES)
        raise DomainError(f"Unknown signature scheme '{name}'; use one of: {choices}.", field="scheme") from None


def _tolerance_check(tolerance_seconds: int) -> None:
    if not TOLERANCE_MIN_SECONDS <= tolerance_seconds <= TOLERANCE_MAX_SECONDS:
        raise DomainError(f"Use {TOLERANCE_MIN_SECONDS} to {TOLERANCE_MAX_SECONDS} seconds.", field="tolerance_seconds")


def _secret_store(*, endpoint: WebhookEndpoint, secret: str | None) -> tuple[WebhookSecret, str]:
    scheme = scheme_checked(endpoint.scheme)
    if secret:
        try:
            raw = scheme.secret_normalize(secret)
        except signatures.InvalidSecret as exc:
            raise DomainError(str(exc), field="secret") from None
    else:
        raw = scheme.secret_generate()
    stored = WebhookSecret.objects.create(endpoint=endpoint, secret_encrypted=secret_box.encrypt(raw), hint=raw[-4:])
    return stored, raw


@transaction.atomic
def endpoint_create(
    *,
    name: str,
    scheme: str,
    tolerance_seconds: int | None = None,
    is_active: bool = True,
    owner: Owner | None = None,
    secret: str | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Create an endpoint with one signing secret — generated, or the sender's own when it
    issues them; returns the raw secret, which is never shown again."""
    scheme_checked(scheme)
    if not name.strip():
        raise DomainError("Give the endpoint a name.", field="name")
    if tolerance_seconds is None:
        tolerance_seconds = settings.WEBHOOKS_DEFAULT_TOLERANCE_SECONDS
    _tolerance_check(tolerance_seconds)
    endpoint = WebhookEndpoint.objects.create(
        name=name.strip(),
        scheme=scheme,
        tolerance_seconds=tolerance_seconds,
        is_active=is_active,
        owner=owner,
    )
    _, raw = _secret_store(endpoint=endpoint, secret=secret)
    logger.info("webhook endpoint created", extra={"endpoint_id": endpoint.pk, "scheme": scheme})
    return endpoint, raw


def endpoint_update(*, endpoint: WebhookEndpoint, **fields) -> WebhookEndpoint:
    if "scheme" in fields and fields.pop("scheme") != endpoint.scheme:
        raise DomainError(
            "The scheme of an existing endpoint cannot change (its secrets belong to it); create a new endpoint.",
            field="scheme",
        )
    if "name" in fields:
        if not fields["name"].strip():
            raise DomainError("Give the endpoint a name.", field="name")
        fields["name"] = fields["name"].strip()
    if "tolerance_seconds" in fields:
        _tolerance_check(fields["tolerance_seconds"])
    model_update(instance=endpoint, fields=UPDATABLE_FIELDS, data=fields)
    # Every field given is saved, changed or not: the save is what clears the receiving cache
    # (selectors.receiving_cache_clear) and stamps updated_at.
    endpoint.save(update_fields=[*fields, "updated_at"])
    return endpoint


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint, its secrets and its recorded deliveries."""
    endpoint_id = endpoint.pk
    endpoint.delete()
    logger.info("webhook endpoint deleted", extra={"endpoint_id": endpoint_id})


@transaction.atomic
def endpoint_secret_add(
    *, endpoint: WebhookEndpoint, secret: str | None = None, expire_previous_in: int | None = None
) -> tuple[WebhookSecret, str]:
    """Add a signing secret (rotation); returns it with its raw value, shown only this once.

    The previous secrets keep working — until removed, or for `expire_previous_in` seconds
    more when given — so the sender can switch without a lost delivery.
    """
    WebhookEndpoint.objects.select_for_update().filter(pk=endpoint.pk).first()
    if expire_previous_in is not None:
        if not 0 <= expire_previous_in <= SECRET_GRACE_MAX_SECONDS:
            raise DomainError(
                f"Give a number of seconds from 0 to {SECRET_GRACE_MAX_SECONDS} (a year).",
                field="expire_previous_in_seconds",
            )
        until = timezone.now() + dt.timedelta(seconds=expire_previous_in)
        endpoint.secrets.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=until)).update(expires_at=until)
    stored, raw = _secret_store(endpoint=endpoint, secret=secret)
    logger.info("webhook secret added", extra={"endpoint_id": endpoint.pk, "secret_id": stored.pk})
    return stored, raw


@transaction.atomic
def endpoint_secret_remove(*, secret: WebhookSecret) -> None:
    """Remove a secret; the last active one stays, or the endpoint would refuse every sender."""
    WebhookEndpoint.objects.select_for_update().filter(pk=secret.endpoint_id).first()
    others_active = selectors.secrets_active().filter(endpoint_id=secret.endpoint_id).exclude(pk=secret.pk)
    if secret.is_active and not others_active.exists():
        raise Conflict("This is the endpoint's only active secret: add a new one before removing it.")
    secret.delete()
    logger.info("webhook secret removed", extra={"endpoint_id": secret.endpoint_id, "secret_id": secret.pk})
