from rest_framework.routers import SimpleRouter

from integrations.webhooks import management_views

router = SimpleRouter()
router.register("webhook-endpoints", management_views.WebhookEndpointViewSet, basename="webhook-endpoint")

# The receiving URL, /api/v1/webhooks/<token>/, is in config/urls.py.
urlpatterns = router.urls
