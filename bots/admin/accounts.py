"""Admin of bot users (role, owner, language, active; their follows and subscriptions; a test
message) and of subscriptions. Bot users come from the chats (`/start`), never from here; every
edit goes through `bots.services`."""

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html

from bots import services
from bots.admin.common import RecordAdmin, RecordInline, short_text
from bots.models import BotUser, FollowedDevice, Subscription
from bots.telegram.test_message import test_message_send
from config.admin import copy_fields
from config.errors import DomainError

EDITABLE_FIELDS = ("role", "owner", "sees_all_owners", "language", "language_fixed", "is_active")
CHAT_FIELDS = ("platform", "chat_id", "chat_type", "username", "display_name")
STATE_FIELDS = ("last_error", "created_at", "last_seen_at")
# Each test message is one Bot API call made while the page waits: a few chats at a time.
TEST_MESSAGE_LIMIT = 20


class BotUserForm(forms.ModelForm):
    class Meta:
        model = BotUser
        fields = list(EDITABLE_FIELDS)

    def clean(self):
        cleaned = super().clean()
        try:
            services.bot_user_validate(
                role=cleaned.get("role", self.instance.role),
                owner=cleaned.get("owner"),
                sees_all_owners=cleaned.get("sees_all_owners", False),
                language=cleaned.get("language", self.instance.language),
            )
        except DomainError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.detail)
        return cleaned


class FollowedDeviceInline(RecordInline):
    """The devices the chat follows (`/add_device`, `/remove_device`): it is told about those only."""

    model = FollowedDevice
    verbose_name = "followed device"
    verbose_name_plural = "Followed devices (a chat that follows devices is told about those only)"
    fields = ("device", "created_at")
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("device")


class SubscriptionInline(RecordInline):
    """The event kinds the chat chose (`/notify`)."""

    model = Subscription
    verbose_name_plural = "Subscriptions (event kinds the chat is told about, set with /notify)"
    fields = ("event_kind",)
    readonly_fields = fields
    show_change_link = False


@admin.register(BotUser)
class BotUserAdmin(admin.ModelAdmin):
    form = BotUserForm
    list_display = (
        "name",
        "platform",
        "chat_type",
        "role",
        "owner",
        "is_active",
        "language",
        "last_seen_at",
        "last_error_short",
    )
    list_select_related = ("owner",)
    list_filter = ("platform", "chat_type", "role", "is_active", "sees_all_owners", "language", "owner")
    search_fields = ("username", "display_name", "=chat_id", "owner__slug", "owner__name")
    search_help_text = "@username, name, chat id (exact), owner."
    fieldsets = (
        ("Chat", {"fields": CHAT_FIELDS}),
        ("Access", {"fields": ("role", "owner", "sees_all_owners")}),
        ("Language", {"fields": ("language", "language_fixed")}),
        ("State", {"fields": ("is_active", *STATE_FIELDS)}),
    )
    readonly_fields = (*CHAT_FIELDS, *STATE_FIELDS)
    inlines = (FollowedDeviceInline, SubscriptionInline)
    actions = ("send_test_message",)

    def has_add_permission(self, request):
        return False  # a chat becomes a bot user by writing /start to the bot

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "owner" and formfield is not None:
            formfield.widget.can_add_related = False  # an owner's secret is shown on its own page
        return formfield

    @admin.display(description="name", ordering="username")
    def name(self, obj: BotUser) -> str:
        handle = f"@{obj.username}" if obj.username else ""
        if obj.display_name and handle:
            return format_html('{}<br><span class="quiet">{}</span>', obj.display_name, handle)
        return obj.display_name or handle or obj.chat_id

    @admin.display(description="last error", ordering="last_error")
    def last_error_short(self, obj: BotUser):
        return short_text(obj.last_error)

    def save_model(self, request, obj, form, change):
        # The form has already written its values onto `obj`: the service compares against the
        # stored row (reactivating clears the last error).
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in EDITABLE_FIELDS}
        stored = BotUser.objects.select_related("owner").get(pk=obj.pk)
        copy_fields(obj, services.bot_user_update(bot_user=stored, **changes))

    def delete_model(self, request, obj):
        services.bot_user_forget(bot_user=obj)

    def delete_queryset(self, request, queryset):
        for bot_user in queryset:
            services.bot_user_forget(bot_user=bot_user)

    @admin.action(description="Send a test message", permissions=["change"])
    def send_test_message(self, request, queryset):
        count = queryset.count()
        if count > TEST_MESSAGE_LIMIT:
            self.message_user(
                request, f"Select at most {TEST_MESSAGE_LIMIT} bot users for a test message.", messages.ERROR
            )
            return
        for bot_user in queryset:
            try:
                message_id = test_message_send(bot_user)
            except DomainError as exc:
                self.message_user(request, f"{bot_user}: not sent. {exc.detail}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"{bot_user}: test message sent (message {message_id}, {timezone.localtime():%H:%M:%S}).",
                    messages.SUCCESS,
                )


@admin.register(Subscription)
class SubscriptionAdmin(RecordAdmin):
    """Who is told about which event kinds; the chats set them with `/notify`."""

    list_display = ("bot_user", "event_kind", "owner")
    list_select_related = ("bot_user__owner",)
    list_filter = ("event_kind", "bot_user__platform", "bot_user__is_active", "bot_user__owner")
    search_fields = ("bot_user__username", "bot_user__display_name", "=bot_user__chat_id")
    fields = ("bot_user", "event_kind")
    readonly_fields = fields

    @admin.display(description="owner", ordering="bot_user__owner__name")
    def owner(self, obj: Subscription):
        return obj.bot_user.owner or "—"
