"""Serializers of the management API, and the fields every device API shares (the device-facing
`devices.controller` and the seed-compatible `devices.legacy` use them too)."""

import math
import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.models import DEFAULT_TOKEN_NAME, ApiToken
from devices import identity
from devices.models import SEND_INTERVAL_MAX, SEND_INTERVAL_MIN, Device, MeasurementType, Owner

SLUG = re.compile(r"[-a-zA-Z0-9_]{1,64}")


class FiniteFloatField(serializers.FloatField):
    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("invalid")
        return value


class MacAddressField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(max_length=40, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return identity.mac_canonical(value)
        except identity.InvalidMac as exc:
            raise serializers.ValidationError(str(exc)) from None


class LocationFieldsMixin(serializers.Serializer):
    latitude = FiniteFloatField(min_value=-90, max_value=90)
    longitude = FiniteFloatField(min_value=-180, max_value=180)
    city = serializers.CharField(max_length=100)


class TopicsSerializer(serializers.Serializer):
    telemetry = serializers.CharField()
    config = serializers.CharField()
    status = serializers.CharField()


@extend_schema_field({"type": "string", "nullable": True, "description": "Username of who made the change."})
class UsernameField(serializers.SlugRelatedField):
    pass


class ConfigUpdateInputSerializer(serializers.Serializer):
    send_interval = serializers.IntegerField(min_value=SEND_INTERVAL_MIN, max_value=SEND_INTERVAL_MAX)
    qos = serializers.ChoiceField(choices=[0, 1, 2])


class DeviceConfigOutputSerializer(serializers.Serializer):
    send_interval = serializers.IntegerField()
    qos = serializers.IntegerField()
    version = serializers.IntegerField()
    updated_at = serializers.DateTimeField()
    updated_by = UsernameField(slug_field="username", read_only=True)
    applied_version = serializers.IntegerField(allow_null=True)
    applied_at = serializers.DateTimeField(allow_null=True)
    is_applied = serializers.BooleanField()


class DeviceOutputSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    measurement_type = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    topics = TopicsSerializer(read_only=True)
    config = DeviceConfigOutputSerializer(read_only=True)

    class Meta:
        model = Device
        fields = [
            "device_id",
            "mac_address",
            "owner",
            "measurement_type",
            "sensor_model",
            "city",
            "latitude",
            "longitude",
            "height",
            "is_active",
            "created_at",
            "updated_at",
            "last_seen",
            "topics",
            "config",
        ]


class SlugLookupField(serializers.SlugRelatedField):
    """An object by its slug; anything that is not a slug is refused before the lookup (a NUL
    character would otherwise reach PostgreSQL and fail there)."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="slug", **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not SLUG.fullmatch(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data)[:64])
        return super().to_internal_value(data)


class DeviceUpdateInputSerializer(LocationFieldsMixin):
    # Both null: the location is unknown (as for a device of the original firmware that sent none).
    latitude = FiniteFloatField(
        min_value=-90, max_value=90, allow_null=True, help_text="null, with longitude: unknown."
    )
    longitude = FiniteFloatField(
        min_value=-180, max_value=180, allow_null=True, help_text="null, with latitude: unknown."
    )
    owner = SlugLookupField(queryset=Owner.objects.all())
    measurement_type = SlugLookupField(queryset=MeasurementType.objects.all())
    sensor_model = serializers.CharField(max_length=100, allow_blank=True)
    height = FiniteFloatField(allow_null=True, required=False)
    is_active = serializers.BooleanField()


class OwnerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Owner
        fields = [
            "name",
            "slug",
            "allow_secretless_registration",
            "default_send_interval",
            "default_qos",
            "created_at",
            "secret_rotated_at",
        ]
        read_only_fields = ["created_at", "secret_rotated_at"]
        extra_kwargs = {"slug": {"required": False}}


class OwnerCreatedSerializer(OwnerSerializer):
    provisioning_secret = serializers.CharField(
        read_only=True, help_text="Shown once; devices send it as X-Provisioning-Secret."
    )

    class Meta(OwnerSerializer.Meta):
        fields = [*OwnerSerializer.Meta.fields, "provisioning_secret"]


class ProvisioningSecretSerializer(serializers.Serializer):
    provisioning_secret = serializers.CharField(help_text="Shown once.")
    previous_secret_valid_until = serializers.DateTimeField()


class TokenInputSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        default=DEFAULT_TOKEN_NAME,
        help_text=f"What the token is for (default '{DEFAULT_TOKEN_NAME}'). One token per user and name: "
        "a new token under a name you already have revokes that token.",
    )


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as 'Authorization: Token <token>'. Shown once.")
    id = serializers.IntegerField(help_text="The token's id, to revoke it by DELETE /api/v1/auth/tokens/{id}/.")
    name = serializers.CharField()


class ApiTokenSerializer(serializers.ModelSerializer):
    """A token as its user sees it: never the token itself, which is not stored."""

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at"]
        read_only_fields = fields
