"""Bot users (a Telegram account or group chat that talks to the hub), the invitations that give
them an owner's devices, the event kinds they are told about and the devices they follow."""

from django.conf import settings
from django.db import models

from devices.models import Device, DeviceEvent, Owner

LANGUAGES = [("en", "English"), ("ru", "Русский"), ("uk", "Українська")]


class Role(models.TextChoices):
    NONE = "none", "no access"
    MANAGER = "manager", "manager (notifications and reads)"
    ADMINISTRATOR = "administrator", "administrator (also config changes)"


class BotUser(models.Model):
    """A chat the bot talks to: a private chat (a person) or a group. It sees nothing until an
    invitation binds it to an owner with a role (or it is one of the TELEGRAM_CHAT_ID chats)."""

    class Platform(models.TextChoices):
        TELEGRAM = "telegram", "Telegram"

    class ChatType(models.TextChoices):
        PRIVATE = "private", "private chat"
        GROUP = "group", "group"
        SUPERGROUP = "supergroup", "supergroup"
        CHANNEL = "channel", "channel"

    platform = models.CharField(max_length=16, choices=Platform.choices, default=Platform.TELEGRAM)
    chat_id = models.CharField(max_length=64, help_text="The platform's chat id (Telegram: a 64-bit integer).")
    chat_type = models.CharField(max_length=16, choices=ChatType.choices, default=ChatType.PRIVATE)
    username = models.CharField(max_length=64, blank=True, help_text="@username of the person or group, if any.")
    display_name = models.CharField(max_length=200, blank=True)
    language = models.CharField(
        max_length=8,
        choices=LANGUAGES,
        default="en",
        help_text="Language of the answers and notifications; a person's follows their Telegram app's.",
    )
    language_fixed = models.BooleanField(
        default=False, help_text="Keep the language set here instead of following the Telegram app's."
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.NONE)
    owner = models.ForeignKey(
        Owner, null=True, blank=True, on_delete=models.SET_NULL, related_name="bot_users", help_text="Whose devices."
    )
    sees_all_owners = models.BooleanField(
        default=False,
        help_text="Told about every owner's devices (the chats of the TELEGRAM_CHAT_ID setting).",
    )
    is_active = models.BooleanField(
        default=True, help_text="Cleared when the chat blocked the bot, left it or no longer exists."
    )
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "bot user"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "chat_id"], name="bots_user_one_per_chat"),
        ]
        indexes = [models.Index(fields=["owner", "is_active"], name="bots_user_owner_idx")]

    def __str__(self):
        name = f"@{self.username}" if self.username else (self.display_name or self.chat_id)
        return f"{self.get_platform_display()} {name}"

    @property
    def is_group(self) -> bool:
        return self.chat_type != self.ChatType.PRIVATE

    @property
    def has_access(self) -> bool:
        return self.sees_all_owners or (self.owner_id is not None and self.role != Role.NONE)


class Invitation(models.Model):
    """Access to an owner's devices with a role, given by a staff user as a deep link
    (`https://t.me/<bot>?start=<token>`). Only the token's HMAC digest is stored."""

    owner = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="bot_invitations")
    role = models.CharField(max_length=16, choices=[c for c in Role.choices if c[0] != Role.NONE])
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(max_length=8, editable=False, help_text="The token's first characters.")
    max_uses = models.PositiveIntegerField(default=1, help_text="How many chats may use it (1: single-use).")
    uses = models.PositiveIntegerField(default=0, editable=False)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    note = models.CharField(max_length=200, blank=True, help_text='For whom, e.g. "night shift group".')
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(uses__lte=models.F("max_uses")), name="bots_invitation_uses"),
        ]

    def __str__(self):
        return f"{self.get_role_display().split(' ')[0]} of {self.owner_id} ({self.token_prefix}…)"


class Subscription(models.Model):
    """An event kind a bot user is told about (`/notify` turns them on and off)."""

    bot_user = models.ForeignKey(BotUser, on_delete=models.CASCADE, related_name="subscriptions")
    event_kind = models.CharField(max_length=40, choices=DeviceEvent.Kind.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bot_user", "event_kind"], name="bots_subscription_unique"),
        ]

    def __str__(self):
        return f"{self.bot_user} ← {self.event_kind}"


class FollowedDevice(models.Model):
    """A device a bot user follows (`/add_device`): a bot user that follows devices is told about
    those only (the original bot's user ↔ device links)."""

    bot_user = models.ForeignKey(BotUser, on_delete=models.CASCADE, related_name="followed")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="followers")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bot_user", "device"], name="bots_follow_unique"),
        ]

    def __str__(self):
        return f"{self.bot_user} → {self.device_id}"
