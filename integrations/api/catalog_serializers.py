"""Serializers of the integration catalog, execute and runs API."""

from rest_framework import serializers

from devices.models import Owner
from integrations.models import IntegrationRun
from integrations.registry import Category


class CredentialsNeededSerializer(serializers.Serializer):
    provider = serializers.CharField(allow_null=True, help_text="Credential provider id to store under.")
    strategy = serializers.CharField(allow_null=True, help_text="api_key, bearer or basic.")
    required = serializers.BooleanField()
    setting = serializers.CharField(allow_null=True, help_text="Settings-store key used when no credential.")


class IntegrationSerializer(serializers.Serializer):
    """An integration's declared metadata (`IntegrationMetadata.as_dict()`)."""

    id = serializers.CharField()
    version = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    category = serializers.ChoiceField(choices=[c.value for c in Category])
    config_schema = serializers.JSONField(help_text="JSON Schema (Draft 2020-12) of `config`.")
    secret_fields = serializers.ListField(child=serializers.CharField(), help_text="JSON paths of secret fields.")
    credentials = CredentialsNeededSerializer()
    library = serializers.CharField()
    side_effecting = serializers.BooleanField(help_text="True: runs in a worker, execute answers 202.")
    cache_ttl = serializers.IntegerField(allow_null=True, help_text="Seconds a read's answer is cached.")


class ExecuteInputSerializer(serializers.Serializer):
    config = serializers.JSONField(help_text="Checked against the integration's config_schema.")
    owner = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Owner.objects.all(),
        required=False,
        allow_null=True,
        help_text="Whose credentials to use (slug); default: the global ones.",
    )


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    retry_after = serializers.FloatField(required=False)


class ExecuteAcceptedSerializer(serializers.Serializer):
    run_id = serializers.UUIDField()
    status = serializers.CharField()


class ExecuteResultSerializer(serializers.Serializer):
    run_id = serializers.UUIDField()
    status = serializers.CharField()
    ok = serializers.BooleanField()
    result = serializers.JSONField(required=False)
    error = ErrorSerializer(required=False)
    source = serializers.CharField(required=False)
    stale = serializers.BooleanField(required=False)


class RunSerializer(serializers.ModelSerializer):
    integration = serializers.CharField(source="integration_id")
    version = serializers.CharField(source="integration_version")
    owner = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    error = serializers.SerializerMethodField()
    result = serializers.JSONField(source="result_summary", help_text="What the run kept of its result.")

    class Meta:
        model = IntegrationRun
        fields = [
            "id",
            "integration",
            "version",
            "status",
            "trigger",
            "owner",
            "created_at",
            "started_at",
            "finished_at",
            "duration_ms",
            "attempts",
            "error",
            "source",
            "result",
        ]
        read_only_fields = fields

    def get_error(self, run: IntegrationRun) -> dict | None:
        if not run.error_code:
            return None
        return {"code": run.error_code, "message": run.error_message}


class WeatherSerializer(serializers.Serializer):
    city = serializers.CharField()
    temperature = serializers.FloatField(help_text="Degrees Celsius.")
    description = serializers.CharField()
    source = serializers.ChoiceField(choices=["api", "cache"])
