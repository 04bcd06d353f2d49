from django.urls import path
from rest_framework.routers import SimpleRouter

from devices.api import device_views, management_views

DEVICE_ID = "<str:device_id>"

router = SimpleRouter()
router.register("auth/tokens", management_views.ApiTokenViewSet, basename="auth-tokens")
router.register("owners", management_views.OwnerViewSet, basename="owner")
router.register("devices", management_views.DeviceViewSet, basename="device")

urlpatterns = [
    path("auth/token/", management_views.TokenView.as_view(), name="auth-token"),
    # Device-facing endpoints (device key); they come before the router's device routes.
    path("devices/register/", device_views.DeviceRegisterView.as_view(), name="device-register"),
    path(f"devices/{DEVICE_ID}/topics/", device_views.DeviceTopicsView.as_view(), name="device-topics"),
    path(f"devices/{DEVICE_ID}/config/", device_views.DeviceConfigView.as_view(), name="device-config"),
    path(
        f"devices/{DEVICE_ID}/config/applied/",
        device_views.DeviceConfigAppliedView.as_view(),
        name="device-config-applied",
    ),
    *router.urls,
]
