"""Reads of the device registry, shared by the API, the legacy API and the admin."""

from django.db.models import QuerySet

from config.errors import NotFound
from devices.identity import mac_canonical
from devices.models import Device, Owner


def device_list(*, filters: dict | None = None) -> QuerySet[Device]:
    """Devices with everything their listing shows, in one query."""
    qs = Device.objects.select_related("owner", "measurement_type", "config")
    filters = filters or {}
    if filters.get("owner"):
        qs = qs.filter(owner__slug=filters["owner"])
    if filters.get("measurement_type"):
        qs = qs.filter(measurement_type__slug=filters["measurement_type"])
    if filters.get("city"):
        qs = qs.filter(city__iexact=filters["city"])
    if filters.get("is_active") is not None:
        qs = qs.filter(is_active=filters["is_active"])
    return qs


def device_get(*, device_id: str) -> Device:
    device = device_list().filter(device_id=device_id).first()
    if device is None:
        raise NotFound(f"Device '{device_id[:32]}' not found.")
    return device


def device_get_by_mac(*, mac_address: str) -> Device:
    device = device_list().filter(mac_address=mac_canonical(mac_address)).first()
    if device is None:
        raise NotFound("No device with this MAC address.")
    return device


def owner_list() -> QuerySet[Owner]:
    return Owner.objects.all()


# Header and values of the device CSV export, column for column.
DEVICE_EXPORT_COLUMNS = (
    ("device_id", "device_id"),
    ("mac_address", "mac_address"),
    ("owner", "owner__slug"),
    ("measurement_type", "measurement_type__slug"),
    ("city", "city"),
    ("latitude", "latitude"),
    ("longitude", "longitude"),
    ("sensor_model", "sensor_model"),
    ("is_active", "is_active"),
    ("last_seen", "last_seen"),
    ("config_version", "config__version"),
    ("applied_version", "config__applied_version"),
    ("send_interval", "config__send_interval"),
    ("qos", "config__qos"),
)


def device_export_rows(*, devices: QuerySet[Device]) -> QuerySet:
    """One tuple per device in DEVICE_EXPORT_COLUMNS order, fetched by one joined query; call
    `.iterator()` on it to stream a fleet of any size."""
    return devices.values_list(*(lookup for _, lookup in DEVICE_EXPORT_COLUMNS))


def owner_find(*, slug: str) -> Owner | None:
    return Owner.objects.filter(slug=slug).first()
