"""Signals of the device registry. Receivers (events, notifiers, live view) subscribe here,
so the registry never needs to know who listens. Sent inside the service's transaction:
receivers defer side effects with ``transaction.on_commit``."""

from django.dispatch import Signal

# kwargs: device, event (DeviceEvent), is_new
device_registered = Signal()
# kwargs: device, event (DeviceEvent), change (ConfigChange)
device_config_changed = Signal()
# kwargs: device, event (DeviceEvent), is_online
device_status_changed = Signal()
