"""Admin of what the bots sent: deliveries (one per chat and device event) and the messages that
covered them — a digest lists every event it counted. Read-only: the senders write them."""

from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html

from bots.admin.common import RecordAdmin, RecordInline, short_text
from bots.models import Delivery, SentMessage

COVERED_SHOWN = 100  # a digest may cover thousands of events: the rest are one link away


def _changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


@admin.register(Delivery)
class DeliveryAdmin(RecordAdmin):
    list_display = (
        "created_at",
        "bot_user",
        "event_kind",
        "device_id",
        "status",
        "attempts",
        "last_error_short",
        "message_link",
        "sent_at",
    )
    list_select_related = ("bot_user", "message")
    list_filter = ("status", "event_kind", "bot_user__platform")
    search_fields = ("=device_id", "bot_user__username", "=bot_user__chat_id")
    search_help_text = "Device id (exact), @username, chat id (exact)."
    date_hierarchy = "created_at"
    # Storms make this table large: no second COUNT(*) over it per page.
    show_full_result_count = False
    fields = (
        "bot_user",
        "event",
        "event_kind",
        "device_id",
        "status",
        "attempts",
        "last_error",
        "message",
        "created_at",
        "sent_at",
    )
    readonly_fields = fields

    @admin.display(description="last error", ordering="last_error")
    def last_error_short(self, obj: Delivery):
        return short_text(obj.last_error)

    @admin.display(description="message", ordering="message")
    def message_link(self, obj: Delivery):
        if obj.message_id is None:
            return "—"
        url = reverse("admin:bots_sentmessage_change", args=[obj.message_id])
        label = "digest" if obj.message.is_digest else "message"
        return format_html('<a href="{}">{} #{}</a>', url, label, obj.message_id)


class _FirstCoveredFormSet(BaseInlineFormSet):
    def get_queryset(self):
        if not hasattr(self, "_first"):
            self._first = super().get_queryset()[:COVERED_SHOWN]
            len(self._first)  # evaluate once; the formset indexes into it per form
        return self._first


class CoveredDeliveryInline(RecordInline):
    """The events the message told the chat about."""

    model = Delivery
    formset = _FirstCoveredFormSet
    verbose_name = "event covered"
    verbose_name_plural = f"Events covered (the first {COVERED_SHOWN}; all of them in the deliveries list)"
    fields = ("event_kind", "device_id", "event", "status", "attempts", "created_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("created_at", "id")


@admin.register(SentMessage)
class SentMessageAdmin(RecordAdmin):
    list_display = (
        "created_at",
        "bot_user",
        "is_digest",
        "event_count",
        "status",
        "attempts",
        "message_ids",
        "last_error_short",
        "sent_at",
    )
    list_select_related = ("bot_user",)
    list_filter = ("status", "is_digest")
    search_fields = ("=id", "bot_user__username", "=chat_id")
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = (
        "bot_user",
        "chat_id",
        "is_digest",
        "event_count",
        "covered",
        "status",
        "attempts",
        "last_error",
        "message_ids",
        "created_at",
        "sent_at",
    )
    readonly_fields = fields
    inlines = (CoveredDeliveryInline,)

    @admin.display(description="last error", ordering="last_error")
    def last_error_short(self, obj: SentMessage):
        return short_text(obj.last_error)

    @admin.display(description="events covered")
    def covered(self, obj: SentMessage):
        url = f"{_changelist_url(Delivery)}?message__id__exact={obj.pk}"
        return format_html('<a href="{}">{} deliveries</a>', url, obj.deliveries.count())
