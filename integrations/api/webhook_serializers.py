from rest_framework import serializers

from devices.models import Owner
from integrations.models.webhooks import (
    SECRET_GRACE_MAX_SECONDS,
    TOLERANCE_MAX_SECONDS,
    TOLERANCE_MIN_SECONDS,
    WebhookScheme,
)
from integrations.webhooks import selectors

SECRET_HELP = (
    "The sender's own signing secret, when it issues them (e.g. a whsec_… secret of a Standard "
    "Webhooks sender); leave out to have one generated."
)


class WebhookSecretSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    masked = serializers.CharField(source="__str__", help_text="The secret itself is shown only when created.")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    is_active = serializers.BooleanField()


class EndpointOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    scheme = serializers.ChoiceField(choices=WebhookScheme.choices)
    url = serializers.SerializerMethodField(help_text="Where the sender posts its webhooks.")
    tolerance_seconds = serializers.IntegerField()
    is_active = serializers.BooleanField()
    owner = serializers.CharField(source="owner.slug", read_only=True, allow_null=True, help_text="The owner's slug.")
    secrets = WebhookSecretSerializer(many=True, source="secrets.all")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_url(self, endpoint) -> str:
        return selectors.endpoint_receive_url(endpoint=endpoint, request=self.context.get("request"))


class EndpointCreatedSerializer(EndpointOutputSerializer):
    secret = serializers.CharField(help_text="The signing secret. Shown once: store it now.")


class EndpointInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    scheme = serializers.ChoiceField(choices=WebhookScheme.choices)
    tolerance_seconds = serializers.IntegerField(
        min_value=TOLERANCE_MIN_SECONDS,
        max_value=TOLERANCE_MAX_SECONDS,
        required=False,
        help_text="Default: WEBHOOKS_DEFAULT_TOLERANCE_SECONDS.",
    )
    is_active = serializers.BooleanField(default=True)
    owner = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Owner.objects.all(),
        allow_null=True,
        default=None,
    )


class EndpointCreateInputSerializer(EndpointInputSerializer):
    secret = serializers.CharField(required=False, write_only=True, trim_whitespace=False, help_text=SECRET_HELP)


class EndpointUpdateInputSerializer(EndpointInputSerializer):
    """The scheme is accepted only to say clearly that it cannot change."""


class SecretAddInputSerializer(serializers.Serializer):
    secret = serializers.CharField(required=False, trim_whitespace=False, help_text=SECRET_HELP)
    expire_previous_in_seconds = serializers.IntegerField(
        min_value=0,
        max_value=SECRET_GRACE_MAX_SECONDS,
        allow_null=True,
        default=None,
        help_text="Make the current secrets stop working after this many seconds; "
        "leave out to keep them until they are removed.",
    )


class SecretCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    secret = serializers.CharField(help_text="The new signing secret. Shown once: store it now.")
    created_at = serializers.DateTimeField()
    previous_secrets = WebhookSecretSerializer(many=True)
