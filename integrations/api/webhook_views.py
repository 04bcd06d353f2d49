"""Management API of webhook endpoints (`/api/v1/webhook-endpoints/`): token or session auth,
Django model permissions. A signing secret is in the answer that creates it and nowhere else."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.errors import NotFound
from config.permissions import user_with_permission
from integrations.api import webhook_serializers as serializers
from integrations.models.webhooks import WebhookEndpoint
from integrations.webhooks import endpoints, selectors


class CanChangeWebhookEndpoint(user_with_permission("integrations.change_webhookendpoint")):
    message = "You need the 'change webhook endpoint' permission to manage its secrets."


class WebhookEndpointFilter(django_filters.FilterSet):
    owner = django_filters.CharFilter(field_name="owner__slug")

    class Meta:
        model = WebhookEndpoint
        fields = ["owner", "scheme", "is_active"]


@extend_schema(tags=["webhooks"])
class WebhookEndpointViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = serializers.EndpointOutputSerializer
    filterset_class = WebhookEndpointFilter
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]

    def get_queryset(self):
        return selectors.endpoint_list()

    @extend_schema(
        request=serializers.EndpointCreateInputSerializer, responses={201: serializers.EndpointCreatedSerializer}
    )
    def create(self, request):
        data = serializers.EndpointCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, secret = endpoints.endpoint_create(**data.validated_data)
        endpoint.secret = secret
        output = serializers.EndpointCreatedSerializer(endpoint, context=self.get_serializer_context())
        return Response(output.data, status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.EndpointUpdateInputSerializer, responses=serializers.EndpointOutputSerializer)
    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        endpoint = self.get_object()
        data = serializers.EndpointUpdateInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        endpoint = endpoints.endpoint_update(endpoint=endpoint, **data.validated_data)
        return Response(self.get_serializer(selectors.endpoint_list().get(pk=endpoint.pk)).data)

    @extend_schema(request=serializers.EndpointUpdateInputSerializer, responses=serializers.EndpointOutputSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def perform_destroy(self, instance):
        endpoints.endpoint_delete(endpoint=instance)

    @extend_schema(request=serializers.SecretAddInputSerializer, responses={201: serializers.SecretCreatedSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret", permission_classes=[CanChangeWebhookEndpoint])
    def rotate_secret(self, request, pk=None):
        """Add a signing secret (shown once); the current ones keep working until removed or expired."""
        endpoint = self.get_object()
        data = serializers.SecretAddInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        stored, secret = endpoints.endpoint_secret_add(
            endpoint=endpoint,
            secret=data.validated_data.get("secret"),
            expire_previous_in=data.validated_data["expire_previous_in_seconds"],
        )
        output = {
            "id": stored.pk,
            "secret": secret,
            "created_at": stored.created_at,
            "previous_secrets": list(endpoint.secrets.exclude(pk=stored.pk)),
        }
        return Response(serializers.SecretCreatedSerializer(output).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"secrets/(?P<secret_id>[0-9]+)",
        permission_classes=[CanChangeWebhookEndpoint],
    )
    def remove_secret(self, request, pk=None, secret_id=None):
        endpoint = self.get_object()
        secret = endpoint.secrets.filter(pk=secret_id).first()
        if secret is None:
            raise NotFound("No such secret on this endpoint.")
        endpoints.endpoint_secret_remove(secret=secret)
        return Response(status=status.HTTP_204_NO_CONTENT)
