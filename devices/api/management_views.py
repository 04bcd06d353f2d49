"""The management API for teams: tokens, owners, devices (token or session auth, model perms)."""

import django_filters
from django.contrib.auth import authenticate
from django.template import loader
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.fields import CharField
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config import tokens
from config.errors import AuthenticationFailed
from devices import selectors, services
from devices.api import serializers
from devices.api.permissions import CanChangeOwner
from devices.models import Device


class TokenView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["management"],
        summary="Get an API token for a user",
        request=serializers.TokenInputSerializer,
        responses={201: serializers.TokenOutputSerializer},
    )
    def post(self, request):
        data = serializers.TokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, username=data.validated_data["username"], password=data.validated_data["password"])
        if user is None:
            raise AuthenticationFailed("Wrong username or password.")
        token = tokens.api_token_issue(user=user, name=data.validated_data.get("name", ""))
        return Response({"token": token}, status=status.HTTP_201_CREATED)


class OwnerViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = serializers.OwnerSerializer
    lookup_field = "slug"
    filter_backends = []

    def get_queryset(self):
        return selectors.owner_list()

    @extend_schema(tags=["management"], responses={201: serializers.OwnerCreatedSerializer})
    def create(self, request):
        data = serializers.OwnerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        owner, secret = services.owner_create(**data.validated_data)
        owner.provisioning_secret = secret
        return Response(serializers.OwnerCreatedSerializer(owner).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        slug_before = serializer.instance.slug
        owner = serializer.save()
        if owner.slug != slug_before:
            services.devices_invalidate_for(owner=owner)

    @extend_schema(tags=["management"], request=None, responses=serializers.ProvisioningSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret", permission_classes=[CanChangeOwner])
    def rotate_secret(self, request, slug=None):
        owner = self.get_object()
        secret = services.owner_rotate_secret(owner=owner)
        owner.refresh_from_db()
        return Response(
            {"provisioning_secret": secret, "previous_secret_valid_until": owner.previous_secret_valid_until}
        )


class DeviceFilter(django_filters.FilterSet):
    owner = django_filters.CharFilter(field_name="owner__slug")
    measurement_type = django_filters.CharFilter(field_name="measurement_type__slug")
    city = django_filters.CharFilter(field_name="city", lookup_expr="iexact")
    # A typed choice, so that `?is_active=maybe` is a 400 rather than silently no filter.
    is_active = django_filters.TypedChoiceFilter(
        choices=[("true", "true"), ("false", "false")], coerce=lambda value: value == "true"
    )

    class Meta:
        model = Device
        fields = ["owner", "measurement_type", "city", "is_active"]


class DeviceSearchFilter(SearchFilter):
    """`?search=` through the same selector as the admin's search box (`selectors.device_search`)."""

    search_description = (
        "Words that must all match (a quoted phrase counts as one): the start of a device id, a MAC "
        "address in any notation, part of a city or of its topic slug (moskva finds Москва), part of "
        "the sensor model."
    )

    def filter_queryset(self, request, queryset, view):
        search = request.query_params.get(self.search_param, "")
        if not search:
            return queryset
        # Validated as DRF's own search is: a NUL character is a 400, never a database error.
        CharField(trim_whitespace=False, allow_blank=True).run_validation(search)
        return selectors.device_search(devices=queryset, search=search)

    def to_html(self, request, queryset, view):
        # The browsable API's search box; DRF's own shows it only for views with `search_fields`.
        context = {"param": self.search_param, "term": request.query_params.get(self.search_param, "")}
        return loader.get_template(self.template).render(context)


class DeviceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = serializers.DeviceOutputSerializer
    lookup_field = "device_id"
    lookup_value_regex = "[0-9a-f]{16}"
    filterset_class = DeviceFilter
    filter_backends = [DjangoFilterBackend, DeviceSearchFilter, OrderingFilter]
    ordering_fields = ["created_at", "last_seen", "city"]

    def get_queryset(self):
        return selectors.device_list().select_related("config__updated_by")

    @extend_schema(
        tags=["management"],
        request=serializers.DeviceUpdateInputSerializer,
        responses=serializers.DeviceOutputSerializer,
    )
    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        device = self.get_object()
        data = serializers.DeviceUpdateInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        device = services.device_update(device=device, **data.validated_data)
        return Response(serializers.DeviceOutputSerializer(device).data)

    def perform_destroy(self, instance):
        services.device_delete(device=instance)
