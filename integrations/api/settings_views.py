"""Management API of integration settings and credentials (token or session auth, model perms)."""

import json

import django_filters
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.errors import DomainError
from config.permissions import user_with_permission
from integrations.api import settings_serializers as serializers
from integrations.models import SETTING_KEY, Credential
from integrations.secrets import selectors, services, settings_store
from integrations.secrets.services import credential_clear_attention

SETTING_VALUE_INPUT = serializers.IntegrationSettingValueInputSerializer
CREDENTIAL_INPUT = serializers.IntegrationCredentialInputSerializer


@extend_schema(tags=["integrations"])
class IntegrationSettingViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    """Typed integration settings by key; secrets are write-only and shown masked."""

    serializer_class = serializers.IntegrationSettingSerializer
    lookup_field = "key"
    lookup_value_regex = SETTING_KEY
    filterset_fields = ["type", "is_secret"]
    search_fields = ["key", "description"]
    ordering_fields = ["key", "updated_at"]
    ordering = ["key"]

    def get_queryset(self):
        return selectors.setting_list()

    def list(self, request, *args, **kwargs):
        # Settings declared in code since the last migrate get their row before being listed.
        services.settings_sync_known()
        return super().list(request, *args, **kwargs)

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            if self.kwargs.get("key") not in settings_store.KNOWN_SETTINGS:
                raise
            services.settings_sync_known()
            return super().get_object()

    @extend_schema(request=SETTING_VALUE_INPUT, responses=serializers.IntegrationSettingSerializer)
    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        setting = self.get_object()
        data = serializers.IntegrationSettingValueInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        if "value" in data.validated_data:
            value = data.validated_data["value"]
            if value is not None and settings_store.setting_type_of(setting.key, setting.type) == "json":
                value = json.dumps(value)  # the service reads a string as JSON text
            setting = services.setting_update(setting=setting, value=value, updated_by=request.user)
        return Response(serializers.IntegrationSettingSerializer(setting).data)

    @extend_schema(request=SETTING_VALUE_INPUT, responses=serializers.IntegrationSettingSerializer)
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)


class CredentialFilter(django_filters.FilterSet):
    owner = django_filters.CharFilter(field_name="owner__slug", help_text="The owner's slug.")
    is_global = django_filters.BooleanFilter(field_name="owner", lookup_expr="isnull", help_text="Global defaults.")

    class Meta:
        model = Credential
        fields = ["provider", "owner", "strategy", "needs_attention", "is_global"]


CanChangeCredential = user_with_permission(
    "integrations.change_credential", "You need the 'change integration credential' permission."
)


@extend_schema(tags=["integrations"])
class IntegrationCredentialViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Provider credentials per owner (null owner = global default); secrets write-only, masked."""

    serializer_class = serializers.IntegrationCredentialSerializer
    filterset_class = CredentialFilter
    search_fields = ["provider", "name", "owner__slug"]
    ordering_fields = ["provider", "updated_at", "attention_at"]
    ordering = ["provider", "owner_id"]

    def get_queryset(self):
        return selectors.credential_list()

    @extend_schema(request=CREDENTIAL_INPUT, responses={201: serializers.IntegrationCredentialSerializer})
    def create(self, request, *args, **kwargs):
        data = serializers.IntegrationCredentialInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if not fields.get("secret"):
            raise DomainError("Enter the secret (API key, token or password).", field="secret")
        credential = services.credential_create(**fields, updated_by=request.user)
        return Response(serializers.IntegrationCredentialSerializer(credential).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CREDENTIAL_INPUT, responses=serializers.IntegrationCredentialSerializer)
    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        credential = self.get_object()
        data = serializers.IntegrationCredentialInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        secret = changes.pop("secret", None)
        credential = services.credential_update(
            credential=credential, secret=secret, updated_by=request.user, **changes
        )
        return Response(serializers.IntegrationCredentialSerializer(credential).data)

    @extend_schema(request=CREDENTIAL_INPUT, responses=serializers.IntegrationCredentialSerializer)
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def perform_destroy(self, instance):
        services.credential_delete(credential=instance)

    @extend_schema(request=None, responses=serializers.IntegrationCredentialSerializer)
    @action(detail=True, methods=["post"], url_path="clear-attention", permission_classes=[CanChangeCredential])
    def clear_attention(self, request, pk=None):
        credential = self.get_object()
        credential_clear_attention(credential)
        credential.refresh_from_db()
        return Response(serializers.IntegrationCredentialSerializer(credential).data)
