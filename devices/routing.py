from django.urls import path

from devices.consumers import DeviceEventsConsumer

websocket_urlpatterns = [path("ws/events/", DeviceEventsConsumer.as_asgi())]
