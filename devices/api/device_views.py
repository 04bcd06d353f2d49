"""Endpoints the devices call. Kept lean: they are what a whole fleet hits after a power cut.

Topics and config come from the cached delivery record (no database query on a cache hit);
the device's key is checked against the digest in that same record.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import NotFound
from devices import delivery, selectors, services
from devices.api import serializers
from devices.api.authentication import ApiTokenAuthentication, DeviceKeyAuthentication, DevicePrincipal
from devices.api.permissions import CanChangeConfig, IsTheDevice, IsTheDeviceOrStaff
from devices.models import ConfigChange

PROVISIONING_SECRET = OpenApiParameter(
    "X-Provisioning-Secret", str, OpenApiParameter.HEADER, required=False,
    description="The owner's provisioning secret (may be omitted only for owners that allow it).",
)


class DeviceEndpoint(APIView):
    authentication_classes = [DeviceKeyAuthentication, ApiTokenAuthentication, SessionAuthentication]
    permission_classes = [IsTheDeviceOrStaff]
    renderer_classes = [JSONRenderer]

    def delivery_record(self) -> dict:
        user = self.request.user
        if isinstance(user, DevicePrincipal):
            return user.record
        record = delivery.delivery_record(self.kwargs["device_id"])
        if record is None:
            raise NotFound("Device not found.")
        return record

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if isinstance(request.user, DevicePrincipal):
            delivery.device_seen(request.user.device_id)


class DeviceRegisterView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]

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
        },
    )
    def post(self, request):
        data = serializers.RegistrationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        owner = services.registration_owner_authorize(
            owner_slug=fields["owner"], secret=request.headers.get("X-Provisioning-Secret")
        )
        registration = services.device_register(
            mac_address=fields["mac_address"],
            owner=owner,
            measurement_type=services.measurement_type_resolve(slug=fields["measurement_type"]),
            city=fields["city"],
            latitude=fields["latitude"],
            longitude=fields["longitude"],
            sensor_model=fields["sensor_model"],
            height=fields["height"],
        )
        device = registration.device
        body = {
            "device_id": device.device_id,
            "device_key": registration.device_key,
            "is_new": registration.is_new,
            "topics": device.topics,
            "config": device.config,
        }
        return Response(
            serializers.RegistrationOutputSerializer(body).data,
            status=status.HTTP_201_CREATED if registration.is_new else status.HTTP_200_OK,
        )


class DeviceTopicsView(DeviceEndpoint):
    @extend_schema(tags=["device"], summary="MQTT topics of a device", responses=serializers.TopicsSerializer)
    def get(self, request, device_id):
        return Response(self.delivery_record()["topics"])


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
        record = self.delivery_record()
        etag = record["etag"]
        if etag in _etags(request.headers.get("If-None-Match", "")):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return Response(record["config"], headers={"ETag": etag, "Cache-Control": "no-cache"})

    @extend_schema(
        tags=["management"], summary="Replace a device's config",
        request=serializers.ConfigUpdateInputSerializer, responses=serializers.DeviceConfigOutputSerializer,
    )
    def put(self, request, device_id):
        return self._update(request, device_id, partial=False)

    @extend_schema(
        tags=["management"], summary="Change part of a device's config",
        request=serializers.ConfigUpdateInputSerializer, responses=serializers.DeviceConfigOutputSerializer,
    )
    def patch(self, request, device_id):
        return self._update(request, device_id, partial=True)

    def _update(self, request, device_id, *, partial):
        data = serializers.ConfigUpdateInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        config = services.config_update(
            device=selectors.device_get(device_id=device_id),
            changed_by=request.user,
            source=ConfigChange.Source.API,
            **data.validated_data,
        )
        return Response(serializers.DeviceConfigOutputSerializer(config).data)


class DeviceConfigAppliedView(DeviceEndpoint):
    permission_classes = [IsTheDevice]

    @extend_schema(
        tags=["device"], summary="Report the config version applied after reboot",
        request=serializers.ConfigAppliedInputSerializer, responses={204: None},
    )
    def post(self, request, device_id):
        data = serializers.ConfigAppliedInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.config_mark_applied(device_id=device_id, version=data.validated_data["version"])
        return Response(status=status.HTTP_204_NO_CONTENT)


def _etags(header: str) -> set[str]:
    return {tag.strip() for tag in header.split(",") if tag.strip()} if header else set()
