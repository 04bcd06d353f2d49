"""Deliveries: one row per (bot user, device event) the bot user is to be told about, and the
messages that told them (one event each, or a digest covering many).

A delivery row is created in the worker's transaction that hands the event on; its unique
constraint makes a second hand-off a no-op. A sender locks pending rows, writes the message that
covers them, sends it, and marks both sent: a retried task finds nothing pending."""

from django.db import models

from bots.models.accounts import BotUser
from devices.models import DeviceEvent


class SentMessage(models.Model):
    """One notification message to a chat (split into parts when longer than the platform
    allows). Its deliveries are the events it covered."""

    class Status(models.TextChoices):
        SENDING = "sending", "sending"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"

    bot_user = models.ForeignKey(BotUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    chat_id = models.CharField(max_length=64, blank=True, help_text="Emptied when the bot user is forgotten.")
    is_digest = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    message_ids = models.JSONField(default=list, blank=True, help_text="The platform's ids of the parts sent.")
    event_count = models.PositiveIntegerField(default=0, help_text="How many events it covers.")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "sent message"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["created_at"], name="bots_message_sending_idx", condition=models.Q(status="sending")),
        ]

    def __str__(self):
        return f"{'digest' if self.is_digest else 'message'} #{self.pk} ({self.event_count} events)"


class Delivery(models.Model):
    """A device event a bot user is to be told about."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        SENDING = "sending", "sending"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"

    bot_user = models.ForeignKey(BotUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries")
    event = models.ForeignKey(DeviceEvent, on_delete=models.CASCADE, related_name="bot_deliveries")
    event_kind = models.CharField(max_length=40, choices=DeviceEvent.Kind.choices)
    device_id = models.CharField(max_length=16, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    message = models.ForeignKey(
        SentMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["bot_user", "event"], name="bots_delivery_once_per_event"),
        ]
        indexes = [
            models.Index(
                fields=["bot_user", "created_at"],
                name="bots_delivery_pending_idx",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self):
        return f"{self.event_kind} {self.device_id} → {self.bot_user_id}"
