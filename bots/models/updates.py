"""What Telegram sent and asked: the updates received (ids only, never their text) and the last
periodic check of the webhook."""

from django.db import models


class ReceivedUpdate(models.Model):
    """A Telegram update handled once: Telegram redelivers an update until it gets a 2xx, and a
    worker may see an inbox entry twice; the unique update id makes the second one a no-op."""

    update_id = models.BigIntegerField(unique=True)
    kind = models.CharField(max_length=32, blank=True, help_text="message, callback_query, …")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    error = models.CharField(max_length=500, blank=True, help_text="Why handling it failed, if it did.")

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"update {self.update_id}"


class TelegramWebhookCheck(models.Model):
    """The last result of the periodic getWebhookInfo (one row): `/health/` and the admin show
    it instead of calling Telegram per probe."""

    checked_at = models.DateTimeField()
    reachable = models.BooleanField(help_text="Whether Telegram answered the check.")
    error = models.CharField(max_length=500, blank=True, help_text="Why the check itself failed.")
    url = models.CharField(max_length=500, blank=True)
    pending_update_count = models.PositiveIntegerField(default=0)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error_message = models.CharField(max_length=500, blank=True)
    max_connections = models.PositiveIntegerField(null=True, blank=True)
    allowed_updates = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = "Telegram webhook check"

    def __str__(self):
        return f"webhook check at {self.checked_at:%Y-%m-%d %H:%M:%S}"
