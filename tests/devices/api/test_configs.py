"""Device configs on the management API: a change bumps the version, records who made it and
reaches the device at once; an unchanged one keeps the version; invalid values are 400, and the
change config permission is needed."""

import pytest
from rest_framework.test import APIClient

from devices.models import ConfigChange, DeviceConfig
from tests.devices.api.helpers import DEVICES, as_user
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def config_url(device_id: str) -> str:
    return f"{DEVICES}{device_id}/config/"


# ------------------------------------------------------------------------------------ config


def test_patching_the_config_bumps_the_version_and_records_who(staff_user, device):
    response = as_user(staff_user).patch(config_url(device.device_id), {"send_interval": 300}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["send_interval"], body["qos"], body["version"], body["updated_by"]) == (300, 1, 2, staff_user.username)
    assert body["is_applied"] is False
    change = ConfigChange.objects.get(device=device, version=2)
    assert change.changed_by == staff_user
    assert change.source == ConfigChange.Source.API
    assert (change.old, change.new) == ({"send_interval": 60, "qos": 1}, {"send_interval": 300, "qos": 1})


def test_putting_the_config_sets_both_fields(staff_user, device):
    response = as_user(staff_user).put(config_url(device.device_id), {"send_interval": 5, "qos": 0}, format="json")

    assert response.status_code == 200
    config = DeviceConfig.objects.get()
    assert (config.send_interval, config.qos, config.version, config.updated_by) == (5, 0, 2, staff_user)


def test_putting_a_config_without_all_fields_is_400(staff_user, device):
    response = as_user(staff_user).put(config_url(device.device_id), {"qos": 0}, format="json")

    assert response.status_code == 400
    assert response.json() == {"send_interval": ["This field is required."]}


def test_a_change_to_the_same_values_does_not_bump_the_version(staff_user, device):
    response = as_user(staff_user).put(config_url(device.device_id), {"send_interval": 60, "qos": 1}, format="json")

    assert response.json()["version"] == 1
    assert ConfigChange.objects.filter(device=device).count() == 1  # the registration's


@pytest.mark.parametrize(
    "change",
    [
        {"qos": 3},
        {"qos": -1},
        {"qos": "high"},
        {"send_interval": 0},
        {"send_interval": 86_401},
        {"send_interval": -5},
        {"send_interval": "often"},
        {"send_interval": 1.5},
        {"send_interval": None},
    ],
)
def test_an_invalid_config_is_400_naming_the_field(staff_user, device, change):
    response = as_user(staff_user).patch(config_url(device.device_id), change, format="json")

    assert response.status_code == 400
    assert list(response.json()) == list(change)
    assert DeviceConfig.objects.get().version == 1


def test_the_changed_config_reaches_the_device_at_once(staff_user, device, django_capture_on_commit_callbacks):
    own_key = APIClient()
    own_key.credentials(HTTP_AUTHORIZATION=f"Device {device.key}")
    assert own_key.get(config_url(device.device_id)).json()["version"] == 1  # cached

    with django_capture_on_commit_callbacks(execute=True):
        as_user(staff_user).patch(config_url(device.device_id), {"qos": 2}, format="json")

    assert own_key.get(config_url(device.device_id)).json() | {"updated_at": None} == {
        "send_interval": 60,
        "qos": 2,
        "version": 2,
        "updated_at": None,
    }


def test_changing_a_config_needs_the_change_config_permission(device):
    fleet_manager = UserFactory(is_staff=True, permissions=["devices.view_device", "devices.change_device"])

    response = as_user(fleet_manager).patch(config_url(device.device_id), {"qos": 2}, format="json")

    assert response.status_code == 403
    assert "change config" in response.json()["detail"]
    assert DeviceConfig.objects.get().version == 1


def test_anonymous_callers_can_not_change_a_config(device):
    response = APIClient().patch(config_url(device.device_id), {"qos": 2}, format="json")

    assert response.status_code == 401
    assert DeviceConfig.objects.get().version == 1


def test_changing_the_config_of_an_unknown_device_is_404(staff_user):
    response = as_user(staff_user).patch(config_url("0123456789abcdef"), {"qos": 2}, format="json")

    assert response.status_code == 404
