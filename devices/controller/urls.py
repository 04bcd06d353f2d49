"""The endpoints devices call (device key), under /api/v1/; config/urls.py includes them before
the management API's, whose device routes would otherwise come first."""

from django.urls import path

from devices.controller import views

DEVICE_ID = "<str:device_id>"

urlpatterns = [
    path("devices/register/", views.DeviceRegisterView.as_view(), name="device-register"),
    path(f"devices/{DEVICE_ID}/topics/", views.DeviceTopicsView.as_view(), name="device-topics"),
    path(f"devices/{DEVICE_ID}/config/", views.DeviceConfigView.as_view(), name="device-config"),
    path(
        f"devices/{DEVICE_ID}/config/applied/",
        views.DeviceConfigAppliedView.as_view(),
        name="device-config-applied",
    ),
]
