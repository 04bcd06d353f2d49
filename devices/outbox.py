"""The outbox of device events: a `DeviceEvent` row written in the transaction of the change it
describes, handed on after commit by `devices.tasks.dispatch_device_event` (see
`devices.receivers`). Only the services write it."""

from devices import signals
from devices.models import Device, DeviceEvent


def event_record(*, kind: str, device: Device, **extra) -> DeviceEvent:
    """The outbox row of an event of this device; its payload is the device as it is now."""
    payload = {
        "device_id": device.device_id,
        "owner": device.owner.slug,
        "city": device.city,
        "measurement_type": device.measurement_type.slug,
        "sensor_model": device.sensor_model,
        "latitude": device.latitude,
        "longitude": device.longitude,
        **extra,
    }
    return DeviceEvent.objects.create(kind=kind, device=device, payload=payload)


def status_event_send(device: Device, *, is_online: bool) -> None:
    """A device went online or offline: its device.online/offline event, and `device_status_changed`."""
    kind = DeviceEvent.Kind.ONLINE if is_online else DeviceEvent.Kind.OFFLINE
    extra = {"last_seen": device.last_seen.isoformat() if device.last_seen else None}
    event = event_record(kind=kind, device=device, **extra)
    signals.device_status_changed.send(sender=Device, device=device, event=event, is_online=is_online)
