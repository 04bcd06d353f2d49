"""Connections: "when event X happens (optionally only for an owner or a measurement type),
run integration Y with config Z", configured in the admin without code."""

from django.db import models

__all__ = ["Connection"]


class Connection(models.Model):
    class Event(models.TextChoices):
        DEVICE_REGISTERED = "device.registered", "device registered"
        DEVICE_CONFIG_CHANGED = "device.config_changed", "device config changed"
        DEVICE_CONFIG_APPLIED = "device.config_applied", "device applied its config"
        DEVICE_OFFLINE = "device.offline", "device went offline"
        DEVICE_ONLINE = "device.online", "device came online"
        WEBHOOK_RECEIVED = "webhook.received", "webhook received"

    name = models.CharField(max_length=200)
    event = models.CharField(max_length=40, choices=Event.choices, db_index=True)
    webhook_endpoint = models.ForeignKey(
        "integrations.WebhookEndpoint",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="connections",
        help_text="For webhook.received: the endpoint whose deliveries trigger it.",
    )
    owner = models.ForeignKey(
        "devices.Owner",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="connections",
        help_text="Only events of this owner's devices (empty: every owner). Its credentials are used.",
    )
    measurement_type = models.ForeignKey(
        "devices.MeasurementType",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="connections",
        help_text="Only events of devices of this measurement type (empty: every type).",
    )
    integration_id = models.CharField("integration", max_length=100)
    config_template = models.JSONField(
        default=dict,
        help_text='The integration\'s config; strings may use event fields: {"text": "New device '
        '{{ device_id }} of {{ owner }} in {{ city }}"}. A string that is only "{{ field }}" keeps '
        "the field's type.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
