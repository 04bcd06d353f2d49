"""One execution of an integration: who asked, when, how it ended. Its config (message texts,
maybe secrets) only encrypted, and only until the run is final — so that a run whose task was
lost (a broker that restarted empty, a worker killed) can be executed later; afterwards only
what the integration's `summarize` keeps of a successful result.

Writes go through `integrations.runs.services`; reads through `integrations.runs.selectors`.
"""

import uuid

from django.conf import settings
from django.db import models

__all__ = ["IntegrationRun"]


class IntegrationRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    class Trigger(models.TextChoices):
        API = "api", "API"
        CONNECTION = "connection", "connection"
        ADMIN = "admin", "admin"

    FINAL_STATUSES = (Status.SUCCEEDED, Status.FAILED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    integration_id = models.CharField("integration", max_length=100, db_index=True)
    integration_version = models.CharField("version", max_length=64)
    owner = models.ForeignKey(
        "devices.Owner",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="integration_runs",
        help_text="Whose credentials the run used; empty = the global ones.",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True, help_text="Of the last attempt.")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="How many times a worker started it.")
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=8, blank=True, help_text="api or cache: where a read's answer came from.")
    result_summary = models.JSONField(default=dict, blank=True)
    connection = models.ForeignKey(
        "integrations.Connection",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="runs",
        help_text="The connection that triggered the run.",
    )
    event_key = models.CharField(
        max_length=100, blank=True, help_text="The event a connection run answers: one run per connection and event."
    )
    # Encrypted (integrations.secrets.crypto); emptied when the run is final. Never shown.
    config_sealed = models.TextField(blank=True, default="", editable=False)
    due_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Queued: when it is due to run. Running: when its worker's lease ends (a worker that "
        "died leaves the run to the recovery sweep). Empty once final.",
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "integration run"
        indexes = [
            models.Index(fields=["integration_id", "-created_at"], name="integrations_run_recent"),
            # The recovery sweep's scan: unfinished runs past their due time.
            models.Index(
                fields=["due_at"],
                name="integrations_run_unfinished",
                condition=models.Q(status__in=["queued", "running"]),
            ),
        ]
        constraints = [
            # A redelivered event task must not run a connection twice.
            models.UniqueConstraint(
                fields=["connection", "event_key"],
                condition=models.Q(connection__isnull=False),
                name="integrations_run_once_per_connection_event",
            )
        ]
        permissions = [
            ("execute_integration", "Can execute integrations"),
            ("clear_outbound_cache", "Can clear cached integration answers"),
        ]

    def __str__(self):
        return f"{self.integration_id} {self.status} ({self.id})"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES
