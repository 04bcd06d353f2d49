from django.urls import path
from rest_framework.routers import SimpleRouter

from integrations.webhooks import management_views, views

router = SimpleRouter()
router.register("webhook-endpoints", management_views.WebhookEndpointViewSet, basename="webhook-endpoint")

urlpatterns = [
    # The token is the URL segment the sender was given; its signature is what authenticates it.
    path("webhooks/<slug:endpoint_token>/", views.webhook_receive, name="webhook-receive"),
    *router.urls,
]
