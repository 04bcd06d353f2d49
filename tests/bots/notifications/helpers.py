"""Events for the notification tests, written as the outbox writes them (no device needed)."""

from bots.notifications import services
from devices.models import DeviceEvent


def events_handed_on(owner, n: int, *, kind=DeviceEvent.Kind.REGISTERED, start: int = 0) -> list[DeviceEvent]:
    """`n` outbox events of `owner`'s devices, each handed on (its deliveries created)."""
    events = DeviceEvent.objects.bulk_create(
        [
            DeviceEvent(
                kind=kind,
                payload={
                    "device_id": f"{start + number:016x}",
                    "owner": owner.slug,
                    "city": "Berlin",
                    "measurement_type": "temperature",
                    "sensor_model": "DHT22",
                    "latitude": 52.52,
                    "longitude": 13.405,
                },
            )
            for number in range(n)
        ]
    )
    for event in events:
        services.deliveries_create(event=event)
    return events
