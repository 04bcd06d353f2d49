from rest_framework.routers import SimpleRouter

from integrations.api import webhook_views

router = SimpleRouter()
router.register("webhook-endpoints", webhook_views.WebhookEndpointViewSet, basename="webhook-endpoint")

# The receiving URL, /api/v1/webhooks/<token>/, is in config/urls.py.
urlpatterns = router.urls
