"""What devices send and get back: registration, config, the applied report. The shapes they
share with the management API (topics, location, MAC) are in `devices.api.serializers`."""

from rest_framework import serializers

from devices.api.serializers import FiniteFloatField, LocationFieldsMixin, MacAddressField, TopicsSerializer


class RegistrationInputSerializer(LocationFieldsMixin):
    mac_address = MacAddressField()
    owner = serializers.SlugField(max_length=64, help_text="The owner's slug.")
    measurement_type = serializers.SlugField(max_length=64, help_text="e.g. temperature, humidity.")
    sensor_model = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    height = FiniteFloatField(required=False, allow_null=True, default=None)


class ConfigSerializer(serializers.Serializer):
    send_interval = serializers.IntegerField(help_text="Seconds between readings.")
    qos = serializers.IntegerField(help_text="MQTT QoS for publishing readings.")
    version = serializers.IntegerField()
    updated_at = serializers.DateTimeField()


class RegistrationOutputSerializer(serializers.Serializer):
    device_id = serializers.CharField()
    device_key = serializers.CharField(help_text="Send as 'Authorization: Device <device_key>'. Shown once.")
    is_new = serializers.BooleanField()
    topics = TopicsSerializer()
    config = ConfigSerializer()


class ConfigAppliedInputSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)
