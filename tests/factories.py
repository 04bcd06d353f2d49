import itertools

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from devices import services
from devices.models import MeasurementType, Owner
from devices.registration import device_register

_macs = itertools.count(1)


def next_mac() -> str:
    """A fresh MAC address per call, in canonical form."""
    n = next(_macs)
    return ":".join(f"{b:02X}" for b in (0x02, 0x5B, (n >> 24) & 0xFF, (n >> 16) & 0xFF, (n >> 8) & 0xFF, n & 0xFF))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def permissions(user, create, extracted, **kwargs):
        for codename in extracted or []:
            app_label, name = codename.split(".")
            user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=name))
        user.save()


class OwnerFactory(factory.django.DjangoModelFactory):
    """An owner created through the service; `owner.secret` is its provisioning secret."""

    class Meta:
        model = Owner

    name = factory.Sequence(lambda n: f"Owner {n}")
    slug = factory.Sequence(lambda n: f"owner-{n}")
    allow_secretless_registration = False

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        owner, secret = services.owner_create(**kwargs)
        owner.secret = secret
        return owner


def measurement_type(slug: str = "temperature") -> MeasurementType:
    mtype, _ = MeasurementType.objects.get_or_create(slug=slug, defaults={"name": slug.capitalize()})
    return mtype


def register_device(
    *,
    owner: Owner,
    mac_address: str | None = None,
    measurement_type_slug: str = "temperature",
    city: str = "Berlin",
    latitude: float | None = 52.52,
    longitude: float | None = 13.405,
    sensor_model: str = "DHT22",
):
    """Register a device through the service; `device.key` holds its raw device key."""
    registration = device_register(
        mac_address=mac_address or next_mac(),
        owner=owner,
        measurement_type=measurement_type(measurement_type_slug),
        city=city,
        latitude=latitude,
        longitude=longitude,
        sensor_model=sensor_model,
    )
    device = registration.device
    device.key = registration.device_key
    return device


def registration_payload(*, owner: Owner | str, **overrides) -> dict:
    """The JSON body a device sends to POST /api/v1/devices/register/ (a fresh MAC unless given)."""
    payload = {
        "mac_address": next_mac(),
        "owner": owner if isinstance(owner, str) else owner.slug,
        "measurement_type": "temperature",
        "city": "Berlin",
        "latitude": 52.52,
        "longitude": 13.405,
        "sensor_model": "DHT22",
    }
    payload.update(overrides)
    return payload
