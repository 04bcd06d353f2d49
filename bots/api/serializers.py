"""Serializers of the bots' management API: invitations (the token only in the answer that
creates one) and bot users."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bots import invitations
from bots.models import BotUser, Invitation, Role
from bots.models.accounts import LANGUAGES
from devices.api.serializers import SlugLookupField
from devices.models import Owner

# The roles an invitation gives, named InvitationRoleEnum in the schema (ENUM_NAME_OVERRIDES):
# a bot user's role has a third value, none.
INVITATION_ROLE_CHOICES = [(role.value, role.label) for role in (Role.MANAGER, Role.ADMINISTRATOR)]
INVITATION_ROLES = [value for value, _ in INVITATION_ROLE_CHOICES]
ROLE_HELP = "manager: notifications and reads; administrator: also config changes."
MIN_LIFETIME_SECONDS = 60
MAX_LIFETIME_SECONDS = int(invitations.MAX_LIFETIME.total_seconds())


class InvitationSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="Username of who made it."
    )
    state = serializers.SerializerMethodField(help_text="open, used (no uses left), expired or revoked.")

    class Meta:
        model = Invitation
        fields = [
            "id",
            "token_prefix",
            "owner",
            "role",
            "state",
            "uses",
            "max_uses",
            "expires_at",
            "revoked_at",
            "note",
            "created_by",
            "created_at",
        ]

    @extend_schema_field({"type": "string", "enum": list(invitations.INVITATION_STATES)})
    def get_state(self, obj: Invitation) -> str:
        return invitations.invitation_state(obj)


class InvitationCreateInputSerializer(serializers.Serializer):
    owner = SlugLookupField(queryset=Owner.objects.all(), help_text="The owner's slug: whose devices the chat sees.")
    role = serializers.ChoiceField(choices=INVITATION_ROLE_CHOICES, help_text=ROLE_HELP)
    expires_in = serializers.IntegerField(
        min_value=MIN_LIFETIME_SECONDS,
        max_value=MAX_LIFETIME_SECONDS,
        default=int(invitations.DEFAULT_LIFETIME.total_seconds()),
        help_text=f"Seconds until it expires: {MIN_LIFETIME_SECONDS} to {MAX_LIFETIME_SECONDS:,} (90 days); "
        "default 7 days.",
    )
    max_uses = serializers.IntegerField(
        min_value=1, max_value=1000, default=1, help_text="How many chats may use it (1: single-use)."
    )
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class InvitationCreatedSerializer(InvitationSerializer):
    token = serializers.CharField(help_text="The raw token: shown in this answer only, never again.")
    link = serializers.CharField(
        allow_null=True, help_text="https://t.me/<bot>?start=<token>; null while TELEGRAM_BOT_USERNAME is not set."
    )
    qr_svg = serializers.CharField(allow_null=True, help_text="The link's QR code as SVG markup; null without a link.")
    detail = serializers.CharField(allow_null=True, help_text="Why there is no link, if there is none.")

    class Meta(InvitationSerializer.Meta):
        fields = [*InvitationSerializer.Meta.fields, "token", "link", "qr_svg", "detail"]


class BotUserSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    followed_devices = serializers.SerializerMethodField(help_text="Device ids the chat follows (/add_device).")
    subscriptions = serializers.SerializerMethodField(help_text="Event kinds the chat is told about (/notify).")

    class Meta:
        model = BotUser
        fields = [
            "id",
            "platform",
            "chat_id",
            "chat_type",
            "username",
            "display_name",
            "role",
            "owner",
            "sees_all_owners",
            "language",
            "language_fixed",
            "is_active",
            "last_error",
            "created_at",
            "last_seen_at",
            "followed_devices",
            "subscriptions",
        ]

    def get_followed_devices(self, obj: BotUser) -> list[str]:
        return [follow.device_id for follow in obj.followed.all()]

    def get_subscriptions(self, obj: BotUser) -> list[str]:
        return [subscription.event_kind for subscription in obj.subscriptions.all()]


class BotUserUpdateInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
    owner = SlugLookupField(queryset=Owner.objects.all(), allow_null=True, help_text="The owner's slug; null: none.")
    sees_all_owners = serializers.BooleanField()
    language = serializers.ChoiceField(choices=[code for code, _ in LANGUAGES])
    language_fixed = serializers.BooleanField(help_text="Keep this language instead of the Telegram app's.")
    is_active = serializers.BooleanField(help_text="true again after the chat works again (clears last_error).")
