"""The outbound API mounted as the integrations URLconf will mount it (under /api/v1/)."""

from django.urls import include, path

urlpatterns = [path("api/v1/", include("integrations.api.outbound_urls"))]
