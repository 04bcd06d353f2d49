"""API of the integration registry: catalog, execute, runs, and the lab's weather endpoint."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from config.errors import NotFound
from config.permissions import user_with_permission
from devices.controller.authentication import DevicePrincipal
from integrations.api import catalog_serializers as serializers
from integrations.registry import selectors
from integrations.runs import selectors as run_selectors
from integrations.runs import services as runs

EXECUTE_PERMISSION = "integrations.execute_integration"
VIEW_RUNS_PERMISSION = "integrations.view_integrationrun"


def _is_user(user) -> bool:
    return bool(user and user.is_authenticated and not isinstance(user, DevicePrincipal))


class IsUser(permissions.BasePermission):
    """A signed-in person or API token; devices are not users."""

    message = "Authenticate as a user (API token or session)."

    def has_permission(self, request, view):
        return _is_user(request.user)


# Every use of an integration — reading the catalog, executing one, the weather endpoint — needs
# the one permission `integrations.execute_integration`: the calls spend the organization's
# stored credentials and quotas, and the catalog tells what they can reach.
CanUseIntegrations = user_with_permission(
    EXECUTE_PERMISSION, "You need the 'execute integrations' permission (integrations.execute_integration)."
)


class WeatherAccess(CanUseIntegrations):
    """Public when WEATHER_API_PUBLIC is set (the original lab's endpoint was), else like every
    other use of an integration."""

    def has_permission(self, request, view):
        return settings.WEATHER_API_PUBLIC or super().has_permission(request, view)


class IntegrationListView(APIView):
    permission_classes = [CanUseIntegrations]

    @extend_schema(
        tags=["integrations"],
        summary="The catalog: every integration with its metadata and schema",
        parameters=[OpenApiParameter("category", str, description="Only this category.")],
        responses=serializers.IntegrationSerializer(many=True),
    )
    def get(self, request):
        integrations = selectors.integration_list(category=request.query_params.get("category"))
        return Response([integration.metadata.as_dict() for integration in integrations])


class IntegrationDetailView(APIView):
    permission_classes = [CanUseIntegrations]

    @extend_schema(
        tags=["integrations"],
        summary="One integration's metadata and schema",
        responses=serializers.IntegrationSerializer,
    )
    def get(self, request, integration_id: str):
        return Response(selectors.integration_get(integration_id=integration_id).metadata.as_dict())


class IntegrationExecuteView(APIView):
    permission_classes = [CanUseIntegrations]

    @extend_schema(
        tags=["integrations"],
        summary="Execute an integration",
        description="Reads answer at once (200, or the error's status with `ok: false`); side-effecting "
        "integrations are queued for a worker (202 with the run id to poll).",
        request=serializers.ExecuteInputSerializer,
        responses={200: serializers.ExecuteResultSerializer, 202: serializers.ExecuteAcceptedSerializer},
    )
    def post(self, request, integration_id: str):
        selectors.integration_get(integration_id=integration_id)  # 404 before validating the body
        data = serializers.ExecuteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = runs.integration_execute(
            integration_id=integration_id,
            config=data.validated_data["config"],
            owner=data.validated_data.get("owner"),
            requested_by=request.user,
        )
        run = outcome.run
        location = reverse("integration-run-detail", kwargs={"run_id": run.id}, request=request)
        if outcome.result is None:
            return Response(
                {"run_id": run.id, "status": run.status},
                status=status.HTTP_202_ACCEPTED,
                headers={"Location": location},
            )
        body = {"run_id": run.id, "status": run.status, **outcome.result.as_dict()}
        if outcome.result.ok:
            return Response(body)
        headers = {}
        if outcome.result.error.retry_after is not None:
            headers["Retry-After"] = str(max(1, round(outcome.result.error.retry_after)))
        return Response(body, status=outcome.result.error.http_status, headers=headers)


class RunListView(generics.ListAPIView):
    permission_classes = [IsUser]
    serializer_class = serializers.RunSerializer
    filter_backends = []

    @extend_schema(
        tags=["integrations"],
        summary="Integration runs, newest first (yours, or all with the 'view integration run' permission)",
        parameters=[OpenApiParameter("integration", str), OpenApiParameter("status", str)],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = {key: self.request.query_params.get(key) for key in ("integration", "status")}
        if not self.request.user.has_perm(VIEW_RUNS_PERMISSION):
            filters["requested_by"] = self.request.user
        return run_selectors.run_list(filters=filters)


class RunDetailView(APIView):
    permission_classes = [IsUser]

    @extend_schema(
        tags=["integrations"],
        summary="One integration run (yours, or any with the 'view integration run' permission)",
        responses=serializers.RunSerializer,
    )
    def get(self, request, run_id):
        run = run_selectors.run_get(run_id=run_id)
        if run.requested_by_id != request.user.pk and not request.user.has_perm(VIEW_RUNS_PERMISSION):
            raise NotFound("Integration run not found.")
        return Response(serializers.RunSerializer(run).data)


class WeatherView(APIView):
    permission_classes = [WeatherAccess]

    @extend_schema(
        tags=["integrations"],
        summary="Current weather of a city (cached), as the original lab had it",
        responses=serializers.WeatherSerializer,
    )
    def get(self, request, city: str):
        return Response(runs.weather_current(city=city))


@extend_schema_view(get=extend_schema(exclude=True))
class WeatherSlashView(WeatherView):
    pass
