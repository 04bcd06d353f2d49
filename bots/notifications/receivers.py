"""Device events → notifications: connected in `BotsConfig.ready`. Runs inside the worker's
transaction that hands the event on (never in a request), so the deliveries commit with it."""

from django.dispatch import receiver

from bots.notifications.services import deliveries_create
from devices.signals import device_event_dispatched


@receiver(device_event_dispatched, dispatch_uid="bots.notifications.device_event")
def _on_device_event(sender, event, **kwargs):
    deliveries_create(event=event)
