"""The device changelist's columns: dense enough for a laptop screen (tests/browser/test_admin.py
measures it), every column sortable, nothing a sysadmin sorts or filters by lost."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from devices import services
from devices.admin import DeviceAdmin
from devices.models import Device
from tests.factories import OwnerFactory, UserFactory, register_device

pytestmark = pytest.mark.django_db

DEVICE_CHANGELIST = reverse("admin:devices_device_changelist")


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def changelist_rows(response) -> list[dict]:
    """The cells of the device changelist as a person reads them, column by column."""
    cl = response.context["cl"]
    model_admin = cl.model_admin
    columns = [name for name in cl.list_display if name != "action_checkbox"]
    rows = []
    for device in cl.result_list:
        cells = {}
        for name in columns:
            value = getattr(model_admin, name)(device) if hasattr(model_admin, name) else getattr(device, name)
            cells[name] = re.sub(r"<[^>]+>", " ", str(value)).split()
        rows.append({name: " ".join(words) for name, words in cells.items()})
    return rows


def test_changelist_columns_show_owner_city_sensor_last_seen_status_and_config(admin_client):
    owner = OwnerFactory(name="Irkutsk Regional Hydrometeorological Centre")
    device = register_device(owner=owner, city="Москва", sensor_model="Bosch BME680", measurement_type_slug="humidity")
    services.config_update(device=device, send_interval=120)  # v2
    services.config_mark_applied(device_id=device.device_id, version=1)
    Device.objects.filter(pk=device.pk).update(last_seen=dt.datetime(2026, 11, 3, 9, 41, tzinfo=dt.UTC))
    services.devices_deactivate(device_ids=[device.device_id])

    [row] = changelist_rows(admin_client.get(DEVICE_CHANGELIST))

    assert row == {
        "device_id": device.device_id,
        "owner_name": "Irkutsk Regional Hydrometeorological Centre",
        "city": "Москва",
        "sensor": "Humidity Bosch BME680",
        "last_seen_at": "2026-11-03 09:41",
        "status": "online inactive",
        "config_state": "v2 pending device on v1",
    }


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("device_id", None),  # by id
        ("owner_name", ["a-owner", "b-owner", "c-owner"]),
        ("city", ["a-owner", "b-owner", "c-owner"]),  # Aachen, Bonn, Celle
        ("sensor", ["a-owner", "c-owner", "b-owner"]),  # by measurement type, then sensor model
        ("last_seen_at", ["c-owner", "a-owner", "b-owner"]),
        ("status", ["a-owner", "b-owner", "c-owner"]),  # online, offline, inactive
        ("config_state", ["b-owner", "c-owner", "a-owner"]),  # by config version
    ],
)
def test_every_changelist_column_sorts(admin_client, column, expected):
    a = register_device(owner=OwnerFactory(name="A", slug="a-owner"), city="Aachen", sensor_model="DHT11")
    b = register_device(
        owner=OwnerFactory(name="B", slug="b-owner"),
        city="Bonn",
        measurement_type_slug="voltage",
        sensor_model="INA219",
    )
    c = register_device(owner=OwnerFactory(name="C", slug="c-owner"), city="Celle", sensor_model="DHT22")
    now = timezone.now()
    for device, minutes_ago, online in ((a, 5, True), (b, 1, False), (c, 30, True)):
        Device.objects.filter(pk=device.pk).update(last_seen=now - dt.timedelta(minutes=minutes_ago), is_online=online)
    services.devices_deactivate(device_ids=[c.device_id])
    services.config_update(device=a, send_interval=30)
    services.config_update(device=a, send_interval=40)  # a: v3
    services.config_update(device=c, send_interval=30)  # c: v2, b: v1
    columns = list(DeviceAdmin.list_display)
    index = columns.index(column) + 1  # the admin numbers the columns after the checkbox from 1

    response = admin_client.get(DEVICE_CHANGELIST, {"o": str(index)})

    assert response.status_code == 200
    listed = [d.owner.slug for d in response.context["cl"].result_list]
    if expected is None:
        expected = [d.owner.slug for d in sorted((a, b, c), key=lambda d: d.device_id)]
    assert listed == expected
