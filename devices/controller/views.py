"""Endpoints the devices call. Kept lean: they are what a whole fleet hits after a power cut.

Topics and config come from the cached boot record (`devices.boot_cache`; no database query on
a cache hit); the device's key is checked against the digest in that same record, fetched in the
same cache round trip as the device's "seen" mark. A GET by the device itself skips DRF's dispatch
(`DeviceEndpoint.dispatch`); bench/README.md has the figures.
"""

from django.http import HttpResponse, HttpResponseNotModified
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import ForcedAuthentication, Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.client_address import client_address
from config.errors import DomainError, NotFound
from devices import boot_cache, registration, selectors, services
from devices.api import serializers as api_serializers
from devices.api.authentication import ApiTokenAuthentication
from devices.controller import serializers
from devices.controller.authentication import (
    PROVISIONING_SECRET_CHALLENGE,
    DeviceKeyAuthentication,
    DevicePrincipal,
    device_authenticate,
)
from devices.controller.permissions import CanChangeConfig, IsTheDevice, IsTheDeviceOrStaff
from devices.models import ConfigChange

PROVISIONING_SECRET = OpenApiParameter(
    "X-Provisioning-Secret",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="The owner's provisioning secret (may be omitted only for owners that allow it).",
)
# Accept headers that DRF's negotiation would answer with JSON, the only format here (device
# firmware sends none).
_PLAIN_ACCEPT = {None, "*/*", "application/json"}
_JSON = JSONRenderer()


class DeviceEndpoint(APIView):
    # An endpoint a device calls with its key; staff may read it too. (A docstring here would
    # become the OpenAPI description of every endpoint without one.)

    authentication_classes = [DeviceKeyAuthentication, ApiTokenAuthentication, SessionAuthentication]
    permission_classes = [IsTheDeviceOrStaff]
    renderer_classes = [JSONRenderer]

    def dispatch(self, request, *args, **kwargs):
        """A plain GET by the device itself (no query string, JSON acceptable) is what a whole
        fleet sends after a power cut, so it skips DRF's per-request machinery: content
        negotiation, permission and throttle checks, exception handling. It is answered only
        once the device is known to be authenticated, by the same handler and finalisation as
        DRF's, so with the same response; anything else, every error included, goes through DRF.
        """
        device = self._plain_get_by_the_device(request, kwargs["device_id"])
        if device is None:
            return super().dispatch(request, *args, **kwargs)
        self.args, self.kwargs = args, kwargs
        self.request = Request(
            request,
            authenticators=[ForcedAuthentication(device, None)],
            parser_context={"view": self, "args": args, "kwargs": kwargs},
        )
        self.request.accepted_renderer = renderer = JSONRenderer()
        self.request.accepted_media_type = renderer.media_type
        self.headers = self.default_response_headers
        _note_seen(device)
        response = self.get(self.request, *args, **kwargs)
        self.response = self.finalize_response(self.request, response, *args, **kwargs)
        return self.response

    def _plain_get_by_the_device(self, request, device_id: str) -> DevicePrincipal | None:
        if (
            request.method != "GET"
            or not hasattr(self, "get")
            or request.META.get("QUERY_STRING")
            or request.META.get("HTTP_ACCEPT") not in _PLAIN_ACCEPT
        ):
            return None
        try:
            return device_authenticate(request, device_id)
        except (exceptions.APIException, DomainError):
            return None  # DRF answers with the error

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if isinstance(request.user, DevicePrincipal):
            _note_seen(request.user)

    def boot_record(self) -> dict:
        user = self.request.user
        if isinstance(user, DevicePrincipal):
            return user.record
        record = boot_cache.boot_record(self.kwargs["device_id"])
        if record is None:
            raise NotFound("Device not found.")
        return record


class DeviceRegisterView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]

    def get_authenticate_header(self, request):
        return PROVISIONING_SECRET_CHALLENGE

    @extend_schema(
        tags=["device"],
        summary="Register a device (or find it again by its MAC)",
        request=serializers.RegistrationInputSerializer,
        parameters=[PROVISIONING_SECRET],
        responses={
            201: serializers.RegistrationOutputSerializer,
            200: OpenApiResponse(serializers.RegistrationOutputSerializer, "Known MAC: same device, new key."),
            401: OpenApiResponse(description="Provisioning secret missing."),
            403: OpenApiResponse(description="Unknown owner or wrong provisioning secret."),
            429: OpenApiResponse(description="Too many refused registrations from this address or for this owner."),
        },
    )
    def post(self, request):
        data = serializers.RegistrationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        done = registration.device_provision(
            client=client_address(request),
            owner_slug=fields.pop("owner"),
            secret=request.headers.get("X-Provisioning-Secret"),
            **fields,
        )
        device = done.device
        body = {
            "device_id": device.device_id,
            "device_key": done.device_key,
            "is_new": done.is_new,
            "topics": device.topics,
            "config": device.config,
        }
        return Response(
            serializers.RegistrationOutputSerializer(body).data,
            status=status.HTTP_201_CREATED if done.is_new else status.HTTP_200_OK,
        )


class DeviceTopicsView(DeviceEndpoint):
    @extend_schema(tags=["device"], summary="MQTT topics of a device", responses=api_serializers.TopicsSerializer)
    def get(self, request, device_id):
        return _json_response(self.boot_record()["topics"])


class DeviceConfigView(DeviceEndpoint):
    """GET: the device (or staff) fetches its config. PUT/PATCH: staff with permission change it."""

    def get_permissions(self):
        if self.request.method in ("PUT", "PATCH"):
            return [CanChangeConfig()]
        return super().get_permissions()

    @extend_schema(
        tags=["device"],
        summary="Config of a device (ETag / If-None-Match → 304)",
        parameters=[OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER, required=False)],
        responses={200: serializers.ConfigSerializer, 304: OpenApiResponse(description="Not modified.")},
    )
    def get(self, request, device_id):
        record = self.boot_record()
        etag = record["etag"]
        if _none_match(request.headers.get("If-None-Match", ""), etag):
            return HttpResponseNotModified(headers={"ETag": etag})
        return _json_response(record["config"], headers={"ETag": etag, "Cache-Control": "no-cache"})

    @extend_schema(
        tags=["management"],
        summary="Replace a device's config",
        request=api_serializers.ConfigUpdateInputSerializer,
        responses=api_serializers.DeviceConfigOutputSerializer,
    )
    def put(self, request, device_id):
        return self._update(request, device_id, partial=False)

    @extend_schema(
        tags=["management"],
        summary="Change part of a device's config",
        request=api_serializers.ConfigUpdateInputSerializer,
        responses=api_serializers.DeviceConfigOutputSerializer,
    )
    def patch(self, request, device_id):
        return self._update(request, device_id, partial=True)

    def _update(self, request, device_id, *, partial):
        data = api_serializers.ConfigUpdateInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        config = services.config_update(
            device=selectors.device_get(device_id=device_id),
            changed_by=request.user,
            source=ConfigChange.Source.API,
            **data.validated_data,
        )
        return Response(api_serializers.DeviceConfigOutputSerializer(config).data)


class DeviceConfigAppliedView(DeviceEndpoint):
    permission_classes = [IsTheDevice]

    @extend_schema(
        tags=["device"],
        summary="Report the config version applied after reboot",
        request=serializers.ConfigAppliedInputSerializer,
        responses={204: None},
    )
    def post(self, request, device_id):
        data = serializers.ConfigAppliedInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.config_mark_applied(device_id=device_id, version=data.validated_data["version"])
        return Response(status=status.HTTP_204_NO_CONTENT)


def _none_match(header: str, etag: str) -> bool:
    """If-None-Match matches by weak comparison (RFC 9110): `*`, or any listed tag with its
    `W/` prefix ignored — proxies that compress responses hand ETags back weakened."""
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag in tags


def _json_response(data, headers: dict | None = None) -> HttpResponse:
    """JSON exactly as DRF's renderer writes it, in a plain HttpResponse: these endpoints render
    nothing else, and a DRF Response costs a template-response render on every request."""
    return HttpResponse(_JSON.render(data), content_type=_JSON.media_type, headers=headers)


def _note_seen(device: DevicePrincipal) -> None:
    if not device.seen_recently:
        services.device_seen(device.device_id)
