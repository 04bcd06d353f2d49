"""Field names and JSON shapes of the original course server (FastAPI), over our models."""

from collections.abc import Mapping

from anyascii import anyascii
from django.utils.text import slugify
from rest_framework import serializers

from devices.api.serializers import FiniteFloatField, MacAddressField
from devices.models import LOCATION_PAIR_MESSAGE, SEND_INTERVAL_MAX, SEND_INTERVAL_MIN

SLUG_MAX_LENGTH = 64

# The original server's defaults for what a registration leaves out, applied only where the
# legacy mode may create what they name (`open`). Its other defaults were invented and are not
# used: coordinates (56.2928, 101.7121) and height (428, Bratsk's elevation) not sent are unknown,
# and a MAC is required (its default, 00:00:00:00:00:00, would merge every device into one).
ORIGINAL_DEFAULTS = {"owner": "lyceum", "city": "Bratsk", "measurement_type": "temperature"}
DEFAULTED_FIELDS = tuple(ORIGINAL_DEFAULTS)


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


def _required(serializer: serializers.Serializer, names: list[str]) -> serializers.ValidationError:
    return serializers.ValidationError({name: [serializer.fields[name].error_messages["required"]] for name in names})


class LegacyLocationSerializer(serializers.Serializer):
    """The location as the original course firmware sends it (`RegistrationClient.h`)."""

    lat = FiniteFloatField(min_value=-90, max_value=90)
    lon = FiniteFloatField(min_value=-180, max_value=180)

    def validate(self, attrs):
        # Also inside a partial update (`PUT /device/{id}`): half a location is none.
        missing = [name for name in ("lat", "lon") if name not in attrs]
        if missing:
            raise _required(self, missing)
        return attrs


class LegacyDeviceInputSerializer(serializers.Serializer):
    """The body of `POST /register/`; with `partial=True` also of `PUT /device/{id}`.

    The location is the top-level `latitude`/`longitude` or, when both are absent, the course
    firmware's nested `location.lat/lon`; none at all is an unknown location (None), never the
    original's invented coordinates. A missing owner, city or measurement type takes the value
    in ``context["defaults"]`` (the original's, in `open` mode) or is a 400. Other fields the
    original did not know are ignored.
    """

    mac_address = MacAddressField()
    latitude = FiniteFloatField(min_value=-90, max_value=90, required=False)
    longitude = FiniteFloatField(min_value=-180, max_value=180, required=False)
    location = LegacyLocationSerializer(
        required=False,
        allow_null=True,
        help_text="The course firmware's form of the location; used when latitude and longitude are absent.",
    )
    city = serializers.CharField(max_length=100, required=False)
    owner = LegacySlugField(required=False)
    measurement_type = LegacySlugField(required=False)
    sensor_model = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    height = FiniteFloatField(required=False, allow_null=True, default=None)

    def to_internal_value(self, data):
        # Top-level coordinates win; a nested location beside them is ignored, whatever it holds.
        if isinstance(data, Mapping) and "location" in data and ("latitude" in data or "longitude" in data):
            data = {key: value for key, value in data.items() if key != "location"}
        return super().to_internal_value(data)

    def validate(self, attrs):
        location = attrs.pop("location", None)
        if location is not None:
            attrs["latitude"], attrs["longitude"] = location["lat"], location["lon"]
        if self.partial:
            return attrs  # the service checks the result against what is stored
        if ("latitude" in attrs) != ("longitude" in attrs):
            missing = "longitude" if "latitude" in attrs else "latitude"
            raise serializers.ValidationError({missing: [LOCATION_PAIR_MESSAGE]})
        attrs.setdefault("latitude", None)
        attrs.setdefault("longitude", None)
        defaults = self.context.get("defaults") or {}
        missing = [name for name in DEFAULTED_FIELDS if name not in attrs and name not in defaults]
        if missing:
            raise _required(self, missing)
        for name in DEFAULTED_FIELDS:
            attrs.setdefault(name, defaults.get(name))
        return attrs


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
    latitude = serializers.FloatField(allow_null=True, help_text="null, with longitude: the location is unknown.")
    longitude = serializers.FloatField(allow_null=True, help_text="null, with latitude: the location is unknown.")
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
