"""Outbound cache API, mounted under /api/v1/ by the integrations URLconf."""

from django.urls import path

from integrations.api import outbound_views as views

urlpatterns = [
    path("integrations/cache/clear/", views.OutboundCacheClearAllView.as_view(), name="outbound-cache-clear-all"),
    path(
        "integrations/<str:integration_id>/cache/clear/",
        views.OutboundCacheClearView.as_view(),
        name="outbound-cache-clear",
    ),
]
