"""Signed inbound webhooks: endpoints with their signing secrets, and every delivery received.

Writes go through the services of `integrations.webhooks` (endpoints, receiving, persisting,
processing); reads through its selectors.
"""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

__all__ = [
    "WebhookScheme",
    "WebhookEndpoint",
    "WebhookSecret",
    "WebhookDelivery",
    "webhook_token_generate",
    "webhook_tolerance_default",
    "SECRET_GRACE_MAX_SECONDS",
]

TOLERANCE_MIN_SECONDS = 1
TOLERANCE_MAX_SECONDS = 7 * 24 * 3600
# How long a rotated-out signing secret may be kept working: a sender has a year to switch.
SECRET_GRACE_MAX_SECONDS = 366 * 24 * 3600
DELIVERY_ID_MAX_LENGTH = 255


def webhook_token_generate() -> str:
    """The endpoint's URL segment: 192 random bits, so the URL cannot be guessed."""
    return secrets.token_urlsafe(24)


def webhook_tolerance_default() -> int:
    return settings.WEBHOOKS_DEFAULT_TOLERANCE_SECONDS


class WebhookScheme(models.TextChoices):
    STANDARD_WEBHOOKS = "standard_webhooks", "Standard Webhooks (webhook-signature)"
    GITHUB = "github", "GitHub (X-Hub-Signature-256)"
    HEX_HMAC = "hex_hmac", "hex HMAC-SHA256 of the body (X-Signature)"


class WebhookEndpoint(models.Model):
    """Where one sender posts its webhooks: `POST /api/v1/webhooks/<token>/`."""

    name = models.CharField(max_length=200)
    token = models.CharField(max_length=64, unique=True, editable=False, default=webhook_token_generate)
    scheme = models.CharField(
        max_length=32,
        choices=WebhookScheme.choices,
        help_text="How the sender signs its requests; fixed once the endpoint exists.",
    )
    tolerance_seconds = models.PositiveIntegerField(
        default=webhook_tolerance_default,
        validators=[MinValueValidator(TOLERANCE_MIN_SECONDS), MaxValueValidator(TOLERANCE_MAX_SECONDS)],
        help_text="How far a signed timestamp may be from our clock, either way (replay protection).",
    )
    is_active = models.BooleanField(default=True, help_text="Inactive endpoints answer 404.")
    owner = models.ForeignKey(
        "devices.Owner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="webhook_endpoints",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = "webhook endpoint"

    def __str__(self):
        return self.name


class WebhookSecret(models.Model):
    """A signing secret of an endpoint. Several may be active at once, so a sender can switch
    to a new one without losing deliveries; HMAC needs the raw secret, so it is stored
    encrypted (never hashed) and shown only once, when it is created."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="secrets")
    secret_encrypted = models.TextField(editable=False)
    hint = models.CharField(max_length=8, editable=False, help_text="Last characters, to tell secrets apart.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty = until removed.")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "webhook secret"

    def __str__(self):
        return f"••••••{self.hint}"

    def is_active_at(self, when) -> bool:
        return self.expires_at is None or self.expires_at > when

    @property
    def is_active(self) -> bool:
        return self.is_active_at(timezone.now())


class WebhookDelivery(models.Model):
    """One request received on an endpoint, recorded before anything else happens to it —
    rejected ones too, so admins can see misconfigured senders and attacks."""

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", "accepted"
        DUPLICATE = "duplicate", "duplicate (already received)"
        MISSING_SIGNATURE = "missing_signature", "missing signature"
        BAD_HEADERS = "bad_headers", "malformed signature headers"
        BAD_SIGNATURE = "bad_signature", "wrong signature"
        STALE_TIMESTAMP = "stale_timestamp", "timestamp outside tolerance"
        MALFORMED_JSON = "malformed_json", "malformed JSON"
        TOO_LARGE = "too_large", "body too large"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.CharField(
        max_length=DELIVERY_ID_MAX_LENGTH,
        blank=True,
        help_text="The sender's id of the event (webhook-id, X-GitHub-Delivery, X-Delivery-Id), else a body hash.",
    )
    received_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=32, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField(help_text="What we answered.")
    is_valid = models.BooleanField(default=False, help_text="The signature was verified.")
    headers = models.JSONField(default=dict, help_text="Request headers, signatures and credentials masked.")
    body = models.TextField(blank=True)
    body_truncated = models.BooleanField(default=False)
    processed = models.BooleanField(default=False)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Processing attempts.")
    error = models.TextField(blank=True)
    # The inbox's stream entry it was written from (`direct:<uuid>` when written as it arrived,
    # without an inbox): writing an entry again — a drain that died before acknowledging it —
    # is then a no-op.
    inbox_id = models.CharField(max_length=40, null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"
        constraints = [
            # Only accepted deliveries count as "seen": a forged request carrying a real event's
            # id must not make us drop the genuine one later.
            models.UniqueConstraint(
                fields=["endpoint", "delivery_id"],
                condition=Q(outcome="accepted"),
                name="webhook_delivery_unique_accepted_id",
            ),
        ]
        indexes = [
            models.Index(fields=["endpoint", "-received_at"], name="webhook_delivery_endpoint_idx"),
            models.Index(
                fields=["received_at"],
                condition=Q(outcome="accepted", processed=False, attempts=0),
                name="webhook_delivery_pending_idx",
            ),
        ]

    def __str__(self):
        return self.delivery_id or f"delivery {self.pk}"
