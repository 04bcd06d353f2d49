"""The original course server's API (FastAPI), served for devices flashed with its firmware.

Paths, field names and JSON shapes are the original's; errors are FastAPI-style
`{"detail": "..."}`. What the hub allows depends on `DEVICES_LEGACY_API`, read per request:

- ``off``: every path answers 404.
- ``known-owners`` (default): registration without a provisioning secret only into owners that
  allow it; reads only show those owners' devices (others look unknown) unless the caller
  sends the owner's secret or is a user who may view devices; writes need a user with the
  model permission.
- ``open`` (labs): any owner and measurement type, created on first use; no auth, as the
  original.
"""

import re

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from config.client_address import client_address
from config.errors import DomainError, NotFound
from config.exception_handler import api_exception_handler
from config.parsers import JSONParser
from devices import registration, selectors, services
from devices.api.authentication import ApiTokenAuthentication
from devices.controller.authentication import PROVISIONING_SECRET_CHALLENGE
from devices.legacy import serializers
from devices.models import ConfigChange, Device, MeasurementType, Owner

OFF, KNOWN_OWNERS, OPEN = "off", "known-owners", "open"
MODES = (OFF, KNOWN_OWNERS, OPEN)
DEVICE_NOT_FOUND = "Device not found"
SECRET_HEADER = "X-Provisioning-Secret"
# Anything else cannot be a device id; refusing it early also keeps NUL bytes away from the database.
DEVICE_ID = re.compile(r"[0-9a-f]{16}")

PROVISIONING_SECRET = OpenApiParameter(
    SECRET_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="The owner's provisioning secret; optional for owners that allow secret-less registration.",
)
LEGACY_SCHEMA = {"tags": ["legacy"], "deprecated": True}


def legacy_mode() -> str:
    """The DEVICES_LEGACY_API mode; an unrecognised value means the default, `known-owners`."""
    mode = str(settings.DEVICES_LEGACY_API).strip().lower()
    return mode if mode in MODES else KNOWN_OWNERS


def legacy_exception_handler(exc, context):
    """Our usual error responses, each reduced to FastAPI's `{"detail": "..."}`."""
    response = api_exception_handler(exc, context)
    if response is not None and response.data is not None:
        if not (isinstance(response.data, dict) and list(response.data) == ["detail"]):
            response.data = {"detail": _error_summary(response.data)}
    return response


def _error_summary(data) -> str:
    """The first error, as `<field>: <message>` (field errors) or `<message>`; a nested field's
    as `<field>.<inner field>: <message>` (`location.lat: ...`)."""
    if isinstance(data, dict):
        if not data:
            return "Invalid input."
        field, errors = next(iter(data.items()))
        message = _error_summary(errors)
        general = (api_settings.NON_FIELD_ERRORS_KEY, "detail")
        if field in general:
            return message
        if isinstance(errors, dict) and errors and next(iter(errors)) not in general:
            return f"{field}.{message}"
        return f"{field}: {message}"
    if isinstance(data, list):
        return _error_summary(data[0]) if data else "Invalid input."
    return str(data)


class AnyContentTypeJSONParser(JSONParser):
    """JSON whatever the Content-Type says (FastAPI parsed a body without one as JSON); a body
    that is not JSON is a 400."""

    media_type = "*/*"


class LegacyWritePermission(BasePermission):
    """Reads are open (what they show is filtered); writes need the model permission the view
    names, except in `open` mode."""

    message = "You do not have permission to perform this action."

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS or view.mode == OPEN:
            return True
        user = request.user
        perm = view.write_permissions.get(request.method)
        return bool(perm and user and user.is_authenticated and user.has_perm(perm))


class LegacyView(APIView):
    parser_classes = [AnyContentTypeJSONParser]
    renderer_classes = [JSONRenderer]
    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    permission_classes = [LegacyWritePermission]
    write_permissions: dict[str, str] = {}
    mode = KNOWN_OWNERS

    def initial(self, request, *args, **kwargs):
        self.mode = legacy_mode()
        if self.mode == OFF:
            raise NotFound("Not found.")
        super().initial(request, *args, **kwargs)

    def get_exception_handler(self):
        return legacy_exception_handler

    def may_read(self, owner: Owner) -> bool:
        """Whether this caller may see the owner's devices (unseen devices answer 404)."""
        if self.mode == OPEN or owner.allow_secretless_registration:
            return True
        user = self.request.user
        if user and user.is_authenticated and user.has_perm("devices.view_device"):
            return True
        return services.owner_secret_matches(owner, self.request.headers.get(SECRET_HEADER))

    def device(self, device_id: str) -> Device:
        if not DEVICE_ID.fullmatch(device_id):
            raise NotFound(DEVICE_NOT_FOUND)
        try:
            device = selectors.device_get(device_id=device_id)
        except NotFound:
            raise NotFound(DEVICE_NOT_FOUND) from None
        # A permitted writer may reach any device, as in the management API.
        if self.request.method in SAFE_METHODS and not self.may_read(device.owner):
            raise NotFound(DEVICE_NOT_FOUND)
        return device

    def owner_for_update(self, slug: str) -> Owner:
        if self.mode == OPEN:
            # Finds the owner, or creates it on first use, as registration does in this mode.
            return registration.registration_owner_authorize(owner_slug=slug, secret=None, legacy_mode=OPEN)
        owner = selectors.owner_find(slug=slug)
        if owner is None:
            raise DomainError(f"Unknown owner '{slug}'.", field="owner")
        return owner

    def measurement_type(self, slug: str) -> MeasurementType:
        return services.measurement_type_resolve(slug=slug, create=self.mode == OPEN)


@extend_schema(**LEGACY_SCHEMA)
class LegacyRegisterView(LegacyView):
    # Devices have no session, and registration needs no user.
    authentication_classes = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request):
        return PROVISIONING_SECRET_CHALLENGE

    @extend_schema(
        summary="Register a device (seed-compatible; a known MAC answers 200 with its id and topic)",
        request=serializers.LegacyDeviceInputSerializer,
        parameters=[PROVISIONING_SECRET],
        responses={
            200: serializers.LegacyRegistrationOutputSerializer,
            401: OpenApiResponse(description="Owner does not allow secret-less registration."),
            403: OpenApiResponse(description="Unknown owner or wrong provisioning secret."),
            429: OpenApiResponse(description="Too many refused registrations from this address or for this owner."),
        },
    )
    def post(self, request):
        # Only a mode that may create owners and types fills in the original's defaults.
        defaults = serializers.ORIGINAL_DEFAULTS if self.mode == OPEN else None
        data = serializers.LegacyDeviceInputSerializer(data=request.data, context={"defaults": defaults})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        device = registration.device_provision(
            client=client_address(request),
            owner_slug=fields.pop("owner"),
            secret=request.headers.get(SECRET_HEADER),
            legacy_mode=self.mode,
            **fields,
        ).device
        # The legacy firmware has no use for a device key, so none is issued to it here.
        return Response({"device_id": device.device_id, "topic": device.base_topic})


@extend_schema(**LEGACY_SCHEMA)
class LegacyDeviceByMacView(LegacyView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Find a device by its MAC address",
        request=serializers.LegacyMacInputSerializer,
        parameters=[PROVISIONING_SECRET],
        responses={200: serializers.LegacyDeviceSerializer, 404: OpenApiResponse(description=DEVICE_NOT_FOUND)},
    )
    def post(self, request):
        data = serializers.LegacyMacInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            device = selectors.device_get_by_mac(mac_address=data.validated_data["mac_address"])
        except NotFound:
            raise NotFound(DEVICE_NOT_FOUND) from None
        if not self.may_read(device.owner):
            raise NotFound(DEVICE_NOT_FOUND)
        return Response(serializers.LegacyDeviceSerializer(device).data)


@extend_schema(**LEGACY_SCHEMA)
class LegacyDeviceListView(LegacyView):
    @extend_schema(
        summary="Devices of an owner",
        parameters=[
            OpenApiParameter("owner", str, OpenApiParameter.QUERY, required=True, description="The owner."),
            PROVISIONING_SECRET,
        ],
        responses=serializers.LegacyDeviceSerializer(many=True),
    )
    def get(self, request):
        query = serializers.LegacyDeviceListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        owner = selectors.owner_find(slug=query.validated_data["owner"])
        # An owner the caller may not see answers like an owner without devices.
        if owner is None or not self.may_read(owner):
            return Response([])
        devices = selectors.device_list(filters={"owner": owner.slug})
        return Response(serializers.LegacyDeviceSerializer(devices, many=True).data)


@extend_schema(**LEGACY_SCHEMA)
class LegacyDeviceView(LegacyView):
    write_permissions = {"PUT": "devices.change_device", "DELETE": "devices.delete_device"}

    @extend_schema(
        summary="A device",
        parameters=[PROVISIONING_SECRET],
        responses={200: serializers.LegacyDeviceSerializer, 404: OpenApiResponse(description=DEVICE_NOT_FOUND)},
    )
    def get(self, request, device_id):
        return Response(serializers.LegacyDeviceSerializer(self.device(device_id)).data)

    @extend_schema(
        summary="Change a device (any of the registration fields; the MAC cannot change)",
        request=serializers.LegacyDeviceInputSerializer,
        responses=serializers.LegacyDeviceSerializer,
    )
    def put(self, request, device_id):
        device = self.device(device_id)
        data = serializers.LegacyDeviceInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        mac = changes.pop("mac_address", device.mac_address)
        if mac != device.mac_address:
            raise DomainError("The MAC address of a device cannot change; register the new MAC.", field="mac_address")
        if "owner" in changes:
            changes["owner"] = self.owner_for_update(changes["owner"])
        if "measurement_type" in changes:
            changes["measurement_type"] = self.measurement_type(changes["measurement_type"])
        device = services.device_update(
            device=device,
            changed_by=request.user if request.user.is_authenticated else None,
            source=ConfigChange.Source.LEGACY,
            **changes,
        )
        return Response(serializers.LegacyDeviceSerializer(device).data)

    @extend_schema(summary="Delete a device", responses={200: OpenApiResponse(description="Deleted.")})
    def delete(self, request, device_id):
        services.device_delete(device=self.device(device_id))
        return Response({"message": "Device deleted"})


@extend_schema(**LEGACY_SCHEMA)
class LegacyTopicView(LegacyView):
    @extend_schema(
        summary="Telemetry topic of a device",
        parameters=[PROVISIONING_SECRET],
        responses={200: serializers.LegacyTopicSerializer, 404: OpenApiResponse(description=DEVICE_NOT_FOUND)},
    )
    def get(self, request, device_id):
        return Response({"topic": self.device(device_id).base_topic})


@extend_schema(**LEGACY_SCHEMA)
class LegacyConfigView(LegacyView):
    write_permissions = {"POST": "devices.change_deviceconfig"}

    @extend_schema(
        summary="Config of a device",
        parameters=[PROVISIONING_SECRET],
        responses={200: serializers.LegacyConfigSerializer, 404: OpenApiResponse(description=DEVICE_NOT_FOUND)},
    )
    def get(self, request, device_id):
        return Response(serializers.LegacyConfigSerializer(self.device(device_id).config).data)

    @extend_schema(
        summary="Set the config of a device (the device applies it after reboot)",
        request=serializers.LegacyConfigSerializer,
        responses=serializers.LegacyConfigSerializer,
    )
    def post(self, request, device_id):
        device = self.device(device_id)
        data = serializers.LegacyConfigSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        config = services.config_update(
            device=device,
            changed_by=request.user if request.user.is_authenticated else None,
            source=ConfigChange.Source.LEGACY,
            **data.validated_data,
        )
        return Response(serializers.LegacyConfigSerializer(config).data)
