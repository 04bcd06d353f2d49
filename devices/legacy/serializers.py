"""Field names and JSON shapes of the original course server (FastAPI), over our models."""

from anyascii import anyascii
from django.utils.text import slugify
from rest_framework import serializers

from devices.api.serializers import FiniteFloatField, LocationFieldsMixin, MacAddressField
from devices.models import SEND_INTERVAL_MAX, SEND_INTERVAL_MIN

SLUG_MAX_LENGTH = 64


class LegacySlugField(serializers.CharField):
    """A name as old firmware sends it ("Acme Labs", "Температура"), reduced to our slug form."""

    default_error_messages = {
        "no_slug": "Use at least one letter or digit.",
        "slug_too_long": f"Too long once reduced to a slug (at most {SLUG_MAX_LENGTH} characters).",
    }

    def __init__(self, **kwargs):
        super().__init__(max_length=200, **kwargs)

    def to_internal_value(self, data):
        slug = slugify(anyascii(super().to_internal_value(data)))
        if not slug:
            self.fail("no_slug")
        if len(slug) > SLUG_MAX_LENGTH:
            self.fail("slug_too_long")
        return slug


class LegacyDeviceInputSerializer(LocationFieldsMixin):
    """The body of `POST /register/`; with `partial=True` also of `PUT /device/{id}`.

    Fields the original did not know (e.g. a nested `location` object) are ignored.
    """

    mac_address = MacAddressField()
    owner = LegacySlugField()
    measurement_type = LegacySlugField()
    sensor_model = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    height = FiniteFloatField(required=False, allow_null=True, default=None)


class LegacyRegistrationOutputSerializer(serializers.Serializer):
    device_id = serializers.CharField()
    topic = serializers.CharField(help_text="The telemetry (base) topic.")


class LegacyMacInputSerializer(serializers.Serializer):
    mac_address = MacAddressField()


class LegacyDeviceListQuerySerializer(serializers.Serializer):
    owner = LegacySlugField(error_messages={"required": "This query parameter is required, e.g. /devices?owner=acme."})


class LegacyDeviceSerializer(serializers.Serializer):
    device_id = serializers.CharField()
    mac_address = serializers.CharField()
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    height = serializers.FloatField(allow_null=True)
    city = serializers.CharField()
    owner = serializers.CharField(source="owner.slug")
    measurement_type = serializers.CharField(source="measurement_type.slug")
    sensor_model = serializers.CharField()


class LegacyTopicSerializer(serializers.Serializer):
    topic = serializers.CharField()


class LegacyConfigSerializer(serializers.Serializer):
    """Config in the original's words; as input, `last_updated` is ignored (the hub sets it)."""

    data_cadence = serializers.IntegerField(
        source="send_interval",
        min_value=SEND_INTERVAL_MIN,
        max_value=SEND_INTERVAL_MAX,
        required=False,
        help_text="Seconds between readings.",
    )
    qos = serializers.ChoiceField(choices=[0, 1, 2], required=False, help_text="MQTT QoS.")
    last_updated = serializers.DateTimeField(source="updated_at", read_only=True)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give data_cadence and/or qos.")
        return attrs
