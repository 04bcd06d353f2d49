from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from bots.telegram import views as telegram_views
from config import health, metrics, views
from integrations.webhooks import views as webhook_views

urlpatterns = [
    path("health/", health.health, name="health"),
    path("health/live/", health.ping, name="health-live"),
    path("metrics", metrics.metrics, name="metrics"),
    # The URL senders hammer, before the API's patterns: resolving it then costs what resolving
    # /health/ does. The token is the segment the sender was given; its signature authenticates it.
    path("api/v1/webhooks/<slug:endpoint_token>/", webhook_views.webhook_receive, name="webhook-receive"),
    # Telegram's webhook, at the path the original specifications name (bots/telegram/views.py).
    path("telegram-webhook", telegram_views.telegram_webhook, name="telegram-webhook"),
    path("telegram-webhook/<str:segment>", telegram_views.telegram_webhook, name="telegram-webhook-segment"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("devices.controller.urls")),
    path("api/v1/", include("devices.api.urls")),
    path("api/v1/", include("integrations.urls")),
    path("api/v1/bots/", include("bots.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("", views.landing, name="landing"),
    # Seed-compatible paths of the original course server (DEVICES_LEGACY_API).
    path("", include("devices.legacy.urls")),
]

handler400 = "config.errors.handler400"
handler403 = "config.errors.handler403"
handler404 = "config.errors.handler404"
handler500 = "config.errors.handler500"
