"""Reads of the device registry, shared by the API, the legacy API and the admin."""

from collections.abc import Mapping

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.text import smart_split, unescape_string_literal

from config.errors import DomainError, NotFound
from devices.filters import DeviceFilter
from devices.identity import InvalidMac, mac_canonical
from devices.models import Device, Owner
from devices.topics import slug_part, topic_level


def device_list(*, filters: Mapping[str, str] | None = None) -> QuerySet[Device]:
    """Devices with everything their listing shows, in one query; `filters` (query parameters
    or a dict: owner, measurement_type, city, is_active) narrow them through `DeviceFilter`.
    An invalid filter value is a DomainError on its field."""
    devices = Device.objects.select_related("owner", "measurement_type", "config", "config__updated_by")
    if not filters:
        return devices
    filterset = DeviceFilter(data=filters, queryset=devices)
    if not filterset.is_valid():
        # Only `is_active` can be invalid (the others take any text): one field, its first error.
        field, errors = next(iter(filterset.errors.items()))
        raise DomainError(errors[0], field=field)
    return filterset.qs


def _search_terms(search: str) -> list[str]:
    """Words of the search, a quoted phrase ("Santa Cruz") as one; NUL is never in stored text."""
    terms = []
    for bit in smart_split(search.replace("\x00", "")):
        if len(bit) > 1 and bit[0] in "\"'" and bit[-1] == bit[0]:
            bit = unescape_string_literal(bit)
        if bit.strip():
            terms.append(bit.strip())
    return terms


def _cities_by_slug() -> dict[str, list[str]]:
    """Every distinct city under its topic slug. One DISTINCT over the indexed column: a fleet has
    far fewer cities than devices, and the slug is computed per city, never per device."""
    cities: dict[str, list[str]] = {}
    for city in Device.objects.order_by().values_list("city", flat=True).distinct():
        cities.setdefault(topic_level(city), []).append(city)
    return cities


def device_search(*, devices: QuerySet[Device], search: str) -> QuerySet[Device]:
    """The devices of `devices` that match every word of `search` — the admin's search box and the
    management API's `?search=` alike. A word matches the start of a device id, a MAC address (in
    any notation, or part of the stored one), part of a city, of the city's topic slug (`moskva`
    finds `Москва`) or of the sensor model."""
    terms = _search_terms(search)
    cities = None
    for term in terms:
        condition = (
            Q(device_id__startswith=term.lower())
            | Q(mac_address__icontains=term)
            | Q(city__icontains=term)
            | Q(sensor_model__icontains=term)
        )
        try:
            condition |= Q(mac_address=mac_canonical(term))
        except InvalidMac:
            pass
        slug = slug_part(term)
        if slug:
            cities = _cities_by_slug() if cities is None else cities
            matching = [city for city_slug, names in cities.items() if slug in city_slug for city in names]
            if matching:
                condition |= Q(city__in=matching)
        devices = devices.filter(condition)
    return devices


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


def owner_list_with_device_count() -> QuerySet[Owner]:
    """Owners, each with `device_count`: a subquery per listed owner (on the owner index), not a
    GROUP BY over the whole fleet that the admin's page count would have to repeat."""
    devices = Device.objects.filter(owner=OuterRef("pk")).order_by().values("owner").annotate(n=Count("pk"))
    return Owner.objects.annotate(device_count=Coalesce(Subquery(devices.values("n"), output_field=IntegerField()), 0))


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
