"""Integration registry API, mounted under /api/v1/ by the integrations URLconf."""

from django.urls import path

from integrations.api import catalog_views as views

urlpatterns = [
    path("integrations/", views.IntegrationListView.as_view(), name="integration-list"),
    path("integrations/runs/", views.RunListView.as_view(), name="integration-run-list"),
    path("integrations/runs/<uuid:run_id>/", views.RunDetailView.as_view(), name="integration-run-detail"),
    path("integrations/<str:integration_id>/", views.IntegrationDetailView.as_view(), name="integration-detail"),
    path(
        "integrations/<str:integration_id>/execute/", views.IntegrationExecuteView.as_view(), name="integration-execute"
    ),
    # The lab's path has no trailing slash; the slashed one is served too (and left out of the schema).
    path("weather/<str:city>", views.WeatherView.as_view(), name="weather"),
    path("weather/<str:city>/", views.WeatherSlashView.as_view(), name="weather-slash"),
]
