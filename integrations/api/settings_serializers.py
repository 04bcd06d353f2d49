"""Serializers of the settings and credentials API: secrets are write-only and come back masked."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from devices.models import Owner
from integrations.models import PROVIDER_PATTERN, Credential, Setting, setting_is_secret
from integrations.secrets import crypto, settings_store

MASKED_HELP = "Secrets are never returned: a masked form (e.g. ••••••1234) tells whether one is stored."


class IntegrationSettingSerializer(serializers.ModelSerializer):
    type = serializers.SerializerMethodField()
    is_secret = serializers.SerializerMethodField()
    is_known = serializers.SerializerMethodField(help_text="Declared in code (its type and description are fixed).")
    value = serializers.SerializerMethodField(help_text="The value setting_get() returns. " + MASKED_HELP)
    source = serializers.SerializerMethodField(help_text="Where the value comes from; null = no value anywhere.")
    error = serializers.SerializerMethodField(help_text="Why the value cannot be read, if it cannot.")
    default = serializers.SerializerMethodField(help_text="The default declared in code (masked for secrets).")
    updated_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Setting
        fields = [
            "key",
            "type",
            "description",
            "is_secret",
            "is_known",
            "value",
            "source",
            "error",
            "default",
            "updated_at",
            "updated_by",
        ]

    def _state(self, obj: Setting) -> settings_store.SettingPublicState:
        if not hasattr(obj, "_public_state"):
            obj._public_state = settings_store.setting_public_state(obj)
        return obj._public_state

    @extend_schema_field({"type": "string", "enum": list(settings_store.SETTING_TYPES)})
    def get_type(self, obj: Setting) -> str:
        return settings_store.setting_type_of(obj.key, obj.type)

    def get_is_secret(self, obj: Setting) -> bool:
        return setting_is_secret(type_=self.get_type(obj), marked_secret=obj.is_secret)

    def get_is_known(self, obj: Setting) -> bool:
        return obj.key in settings_store.KNOWN_SETTINGS

    @extend_schema_field(OpenApiTypes.ANY)
    def get_value(self, obj: Setting):
        return self._state(obj).value

    @extend_schema_field({"type": "string", "enum": ["database", "environment", "default"], "nullable": True})
    def get_source(self, obj: Setting) -> str | None:
        return self._state(obj).source

    def get_error(self, obj: Setting) -> str | None:
        return self._state(obj).error

    @extend_schema_field(OpenApiTypes.ANY)
    def get_default(self, obj: Setting):
        spec = settings_store.KNOWN_SETTINGS.get(obj.key)
        if spec is None or spec.default is None:
            return None
        return crypto.mask(settings_store.value_to_text(spec.type, spec.default)) if spec.secret else spec.default


class IntegrationSettingValueInputSerializer(serializers.Serializer):
    value = serializers.JSONField(
        allow_null=True,
        help_text="The new value, as a JSON value of the setting's type (a string is also read as text: "
        '"42", "yes"); null removes the stored value, so the environment or the default applies. '
        "Write-only for secrets.",
    )


class IntegrationCredentialSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    secret = serializers.SerializerMethodField(help_text=MASKED_HELP)

    class Meta:
        model = Credential
        fields = [
            "id",
            "provider",
            "owner",
            "name",
            "strategy",
            "api_key_in",
            "api_key_name",
            "username",
            "secret",
            "secret_changed_at",
            "needs_attention",
            "attention_reason",
            "attention_at",
            "created_at",
            "updated_at",
        ]

    def get_secret(self, obj: Credential) -> str | None:
        try:
            return crypto.mask(crypto.decrypt(obj.secret_encrypted))
        except crypto.DecryptionFailed:
            return None


class IntegrationCredentialInputSerializer(serializers.Serializer):
    provider = serializers.RegexField(
        PROVIDER_PATTERN,
        max_length=64,
        help_text="Provider id, e.g. openweathermap, github, telegram.",
        error_messages={"invalid": "Use lower-case letters, digits, '.', '_' or '-'."},
    )
    owner = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Owner.objects.all(),
        allow_null=True,
        required=False,
        default=None,
        help_text="The owner's slug; null = the global default.",
    )
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    strategy = serializers.ChoiceField(choices=Credential.Strategy.choices)
    api_key_in = serializers.ChoiceField(
        choices=Credential.Placement.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="API key strategy: where the key goes.",
    )
    api_key_name = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="API key strategy: the header or query parameter name, e.g. X-API-Key or appid.",
    )
    username = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    secret = serializers.CharField(
        write_only=True,
        required=False,
        max_length=settings_store.VALUE_MAX_LENGTH,
        style={"input_type": "password"},
        help_text="API key, token or password; required on creation, omit it to keep the stored one.",
    )
