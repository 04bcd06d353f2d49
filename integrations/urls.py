"""API of the integrations layer, mounted at /api/v1/."""

from django.urls import include, path

urlpatterns = [
    path("", include("integrations.api.catalog_urls")),
    path("", include("integrations.api.webhook_urls")),
    path("", include("integrations.api.settings_urls")),
    path("", include("integrations.api.outbound_urls")),
]
