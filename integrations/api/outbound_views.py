"""API over the outbound layer: clearing cached answers (staff with the permission only).

The permission is not `config.permissions.user_with_permission`: it also requires staff status,
and its refusal names the permission."""

import re

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import DomainError
from integrations.outbound import outbound_cache_clear

# Declared in the Meta.permissions of an integrations model; superusers have it anyway.
CACHE_CLEAR_PERMISSION = "integrations.clear_outbound_cache"
_INTEGRATION_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class CanClearOutboundCache(permissions.BasePermission):
    message = "Clearing cached integration answers needs staff status and the 'clear outbound cache' permission."

    def has_permission(self, request, view):
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and getattr(user, "is_staff", False) is True
            and user.has_perm(CACHE_CLEAR_PERMISSION)
        )


class CacheClearedSerializer(serializers.Serializer):
    integration = serializers.CharField(allow_null=True, help_text="null: every integration.")
    cleared = serializers.BooleanField()


class OutboundCacheClearView(APIView):
    permission_classes = [CanClearOutboundCache]

    @extend_schema(
        tags=["integrations"],
        summary="Forget the cached answers of an integration",
        operation_id="integration_cache_clear",
        request=None,
        responses={200: CacheClearedSerializer},
    )
    def post(self, request, integration_id: str):
        if not _INTEGRATION_ID.match(integration_id):
            raise DomainError("Invalid integration id.")
        # Answers are cached per service: "openweathermap.current_weather" clears "openweathermap".
        service = integration_id.split(".", 1)[0]
        outbound_cache_clear(integration=service)
        return Response({"integration": service, "cleared": True})


class OutboundCacheClearAllView(APIView):
    permission_classes = [CanClearOutboundCache]

    @extend_schema(
        tags=["integrations"],
        summary="Forget the cached answers of every integration",
        operation_id="integrations_cache_clear_all",
        request=None,
        responses={200: CacheClearedSerializer},
    )
    def post(self, request):
        outbound_cache_clear()
        return Response({"integration": None, "cleared": True})
