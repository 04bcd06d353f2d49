"""The management API for teams: tokens, owners, devices (token or session auth, model perms)."""

from django.contrib.auth import authenticate
from django.template import loader
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config import tokens
from config.credentials import credential_digest
from config.errors import AuthenticationFailed, DomainError, NotFound
from config.models import ApiToken
from devices import selectors, services
from devices.api import serializers
from devices.api.authentication import PASSWORD_CHALLENGE
from devices.api.permissions import CanChangeOwner
from devices.filters import DeviceFilter
from devices.models import ConfigChange


class TokenView(APIView):
    """POST exchanges a username and password for a token (failed logins are throttled per
    account and per client: config/login_throttle.py); DELETE revokes the token it is sent with."""

    def _is_login(self) -> bool:
        # (The schema generator asks for authenticators before it gives the view a request.)
        return getattr(getattr(self, "request", None), "method", None) == "POST"

    def get_authenticators(self):
        # A login carries no credential but the password: a stale token header must not fail it.
        if self._is_login():
            return []
        return super().get_authenticators()

    def get_permissions(self):
        if self._is_login():
            return [AllowAny()]
        return [IsAuthenticated()]

    def get_authenticate_header(self, request):
        if request.method == "POST":
            return PASSWORD_CHALLENGE
        return super().get_authenticate_header(request)

    @extend_schema(
        tags=["management"],
        summary="Get an API token for a user",
        description=f"Issues a token under `name` (default `{tokens.DEFAULT_TOKEN_NAME}`) and revokes the "
        "token the user had under that name: logging in again replaces the login's token. Failed logins "
        "are throttled per account and per client address (429 with Retry-After).",
        request=serializers.TokenInputSerializer,
        responses={
            201: serializers.TokenOutputSerializer,
            401: OpenApiResponse(description="Wrong username or password."),
            429: OpenApiResponse(description="Too many failed logins for this account or from this address."),
        },
    )
    def post(self, request):
        data = serializers.TokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The Django request, so that django-axes marks a locked-out login where its middleware
        # turns it into the 429.
        user = authenticate(
            request._request, username=data.validated_data["username"], password=data.validated_data["password"]
        )
        if user is None:
            raise AuthenticationFailed("Wrong username or password.")
        raw = tokens.api_token_issue(user=user, name=data.validated_data["name"])
        token = tokens.api_token_list(user=user).get(digest=credential_digest(raw))
        return Response({"token": raw, "id": token.id, "name": token.name}, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["management"],
        summary="Revoke the API token this request is sent with",
        request=None,
        responses={
            204: None,
            400: OpenApiResponse(description="The request is not authenticated with an API token."),
        },
    )
    def delete(self, request):
        if not isinstance(request.auth, ApiToken):
            raise DomainError("This request is not authenticated with an API token (Authorization: Token <token>).")
        tokens.api_token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(tags=["management"], summary="Your API tokens (never the tokens themselves)"),
    destroy=extend_schema(tags=["management"], summary="Revoke one of your API tokens"),
)
class ApiTokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """A user's own tokens: listed with name, prefix and use, revoked by id. Another user's token
    is not found."""

    serializer_class = serializers.ApiTokenSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = []
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return tokens.api_token_list(user=self.request.user)

    def get_object(self):
        token = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
        if token is None:
            raise NotFound("API token not found.")
        return token

    def perform_destroy(self, instance):
        tokens.api_token_revoke(token=instance)


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
        # Through the service: a new slug moves the devices' topics (history, cache).
        services.owner_update(
            owner=serializer.instance,
            changed_by=self.request.user,
            source=ConfigChange.Source.API,
            **serializer.validated_data,
        )

    @extend_schema(tags=["management"], request=None, responses=serializers.ProvisioningSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret", permission_classes=[CanChangeOwner])
    def rotate_secret(self, request, slug=None):
        owner = self.get_object()
        secret = services.owner_rotate_secret(owner=owner)
        owner.refresh_from_db()
        return Response(
            {"provisioning_secret": secret, "previous_secret_valid_until": owner.previous_secret_valid_until}
        )


class DeviceFilterParameters(DjangoFilterBackend):
    """Documents `DeviceFilter`'s query parameters (the schema, the browsable API's form); the
    filtering itself is the selector's, `selectors.device_list(filters=...)`."""

    def filter_queryset(self, request, queryset, view):
        return queryset


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
    filter_backends = [DeviceFilterParameters, DeviceSearchFilter, OrderingFilter]
    ordering_fields = ["created_at", "last_seen", "city"]

    def get_queryset(self):
        # The query parameters filter every action, the detail routes' lookups included.
        return selectors.device_list(filters=self.request.query_params)

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
        device = services.device_update(
            device=device, changed_by=request.user, source=ConfigChange.Source.API, **data.validated_data
        )
        return Response(serializers.DeviceOutputSerializer(device).data)

    # Without this the schema documented PATCH's body as the output shape.
    @extend_schema(
        tags=["management"],
        request=serializers.DeviceUpdateInputSerializer,
        responses=serializers.DeviceOutputSerializer,
    )
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def perform_destroy(self, instance):
        services.device_delete(device=instance)
