"""Paths of the original course server, trailing slashes exactly as its firmware calls them."""

from django.urls import path

from devices.legacy import views

urlpatterns = [
    path("register/", views.LegacyRegisterView.as_view(), name="legacy-register"),
    path("device_by_mac/", views.LegacyDeviceByMacView.as_view(), name="legacy-device-by-mac"),
    path("devices", views.LegacyDeviceListView.as_view(), name="legacy-devices"),
    path("device/<str:device_id>", views.LegacyDeviceView.as_view(), name="legacy-device"),
    path("topics/<str:device_id>", views.LegacyTopicView.as_view(), name="legacy-topics"),
    path("configs/<str:device_id>", views.LegacyConfigView.as_view(), name="legacy-configs"),
]
