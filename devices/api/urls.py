"""The management API under /api/v1/: tokens, owners, devices. The device-facing endpoints on
the same prefix are `devices.controller.urls`."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from devices.api import views

router = SimpleRouter()
router.register("auth/tokens", views.ApiTokenViewSet, basename="auth-tokens")
router.register("owners", views.OwnerViewSet, basename="owner")
router.register("devices", views.DeviceViewSet, basename="device")

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="auth-token"),
    *router.urls,
]
