"""Admin of what Telegram sent and said: the updates handled (ids and kinds, never their text) and
the last periodic check of the webhook, with the same warnings `/health/` shows. Read-only."""

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from bots.admin.common import RecordAdmin, short_text
from bots.models import ReceivedUpdate, TelegramWebhookCheck
from bots.webhook_health import webhook_check_warnings

WEBHOOK_PATH = "/telegram-webhook/"


@admin.register(ReceivedUpdate)
class ReceivedUpdateAdmin(RecordAdmin):
    list_display = ("update_id", "kind", "received_at", "error_short")
    list_filter = ("kind",)
    search_fields = ("=update_id",)
    date_hierarchy = "received_at"
    show_full_result_count = False
    fields = ("update_id", "kind", "received_at", "error")
    readonly_fields = fields

    @admin.display(description="error", ordering="error")
    def error_short(self, obj: ReceivedUpdate):
        return short_text(obj.error)


@admin.register(TelegramWebhookCheck)
class TelegramWebhookCheckAdmin(RecordAdmin):
    list_display = ("checked_at", "state", "reachable", "pending_update_count", "last_error_at", "last_error_short")
    fields = (
        "checked_at",
        "state",
        "reachable",
        "error",
        "webhook_url",
        "pending_update_count",
        "last_error_at",
        "last_error_message",
        "max_connections",
        "allowed_updates",
    )
    readonly_fields = fields
    ordering = ("-checked_at",)

    @admin.display(description="webhook URL")
    def webhook_url(self, obj: TelegramWebhookCheck) -> str:
        # A path segment after /telegram-webhook/ is a secret (TELEGRAM_WEBHOOK_PATH).
        base, marker, segment = obj.url.partition(WEBHOOK_PATH)
        if not obj.url:
            return "none set"
        return f"{base}{marker}{'•' * 8 if segment.strip('/') else segment}"

    @admin.display(description="state")
    def state(self, obj: TelegramWebhookCheck):
        warnings = webhook_check_warnings(obj, now=timezone.now())
        if not warnings:
            return "ok"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((w,) for w in warnings)))

    @admin.display(description="Telegram's last delivery error", ordering="last_error_message")
    def last_error_short(self, obj: TelegramWebhookCheck):
        return short_text(obj.last_error_message)
