"""The bulk actions of the device changelist: set send interval, set QoS, deactivate and activate
ask first, then change only the selected (or, across pages, the filtered) devices, each under its
permission; export CSV streams the selected devices."""

import csv
import io

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from rest_framework.test import APIClient

from devices import services
from devices.models import ConfigChange, Device
from tests.clients import login
from tests.devices.admin.helpers import DEVICE_CHANGELIST, messages_of, run_action
from tests.factories import UserFactory, register_device

pytestmark = pytest.mark.django_db


def device_api_topics_status(device: Device) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {device.key}")
    return client.get(f"/api/v1/devices/{device.device_id}/topics/").status_code


def apply_action(client: Client, action: str, devices, url: str = DEVICE_CHANGELIST, select_across=0, **fields):
    """The second step of an action with a form page: the form posted back with `apply`."""
    data = {
        "action": action,
        "apply": "Apply",
        "select_across": select_across,
        ACTION_CHECKBOX_NAME: [d.device_id for d in devices],
        **fields,
    }
    return client.post(url, data)


# -------------------------------------------------------------------------------- bulk actions


def test_set_send_interval_asks_first_then_bumps_every_selected_config(admin_client, owner, superuser):
    devices = [register_device(owner=owner) for _ in range(3)]
    untouched = register_device(owner=owner)

    form_page = run_action(admin_client, "set_send_interval", devices)
    assert form_page.status_code == 200
    assert form_page.context["device_count"] == 3
    assert Device.objects.filter(config__version=1).count() == 4  # nothing changed yet

    response = apply_action(admin_client, "set_send_interval", devices, send_interval=120)

    assert response.status_code == 302
    assert messages_of(response) == ["Send interval set to 120 s: 3 devices changed."]
    for device in devices:
        device.config.refresh_from_db()
        assert (device.config.version, device.config.send_interval) == (2, 120)
        change = ConfigChange.objects.get(device=device, version=2)
        assert (change.changed_by, change.source, change.new["send_interval"]) == (
            superuser,
            ConfigChange.Source.BULK,
            120,
        )
    untouched.config.refresh_from_db()
    assert untouched.config.version == 1


def test_set_send_interval_reports_devices_that_already_had_it(admin_client, owner):
    devices = [register_device(owner=owner) for _ in range(2)]
    services.config_update(device=devices[0], send_interval=120)

    response = apply_action(admin_client, "set_send_interval", devices, send_interval=120)

    assert messages_of(response) == ["Send interval set to 120 s: 1 device changed, 1 already had it."]


@pytest.mark.parametrize("value", [0, 86_401, "soon"])
def test_set_send_interval_refuses_an_invalid_value_on_its_form_page(admin_client, owner, value):
    device = register_device(owner=owner)

    response = apply_action(admin_client, "set_send_interval", [device], send_interval=value)

    assert response.status_code == 200
    assert response.context["form"].errors["send_interval"]
    device.config.refresh_from_db()
    assert device.config.version == 1


def test_set_qos_bumps_versions_of_the_selected_devices(admin_client, owner):
    devices = [register_device(owner=owner) for _ in range(2)]
    assert run_action(admin_client, "set_qos", devices).status_code == 200

    response = apply_action(admin_client, "set_qos", devices, qos=2)

    assert messages_of(response) == ["QoS set to 2: 2 devices changed."]
    assert set(Device.objects.values_list("config__qos", "config__version")) == {(2, 2)}
    assert ConfigChange.objects.filter(source=ConfigChange.Source.BULK, new__qos=2).count() == 2


@pytest.mark.parametrize("value", [3, ""])
def test_set_qos_refuses_anything_but_0_1_2(admin_client, owner, value):
    device = register_device(owner=owner)

    response = apply_action(admin_client, "set_qos", [device], qos=value)

    assert response.status_code == 200 and response.context["form"].errors["qos"]
    device.config.refresh_from_db()
    assert (device.config.qos, device.config.version) == (1, 1)


def test_a_bulk_action_across_all_pages_changes_only_the_filtered_devices(admin_client, owner):
    berlin = [register_device(owner=owner, city="Berlin") for _ in range(3)]
    porto = register_device(owner=owner, city="Porto")
    url = f"{DEVICE_CHANGELIST}?q=berlin"

    form_page = run_action(admin_client, "set_qos", berlin[:1], url=url, select_across=1)
    assert form_page.context["device_count"] == 3
    response = admin_client.post(
        url,
        {
            "action": "set_qos",
            "apply": "Apply",
            "select_across": 1,
            "qos": 0,
            ACTION_CHECKBOX_NAME: [berlin[0].device_id],
        },
    )

    assert response.status_code == 302
    assert set(Device.objects.filter(config__version=2).values_list("city", flat=True)) == {"Berlin"}
    assert Device.objects.filter(config__version=2).count() == 3
    porto.config.refresh_from_db()
    assert porto.config.version == 1


def test_config_actions_need_the_config_permission(fleet_manager, owner):
    device = register_device(owner=owner)
    client = login(fleet_manager)

    offered = client.get(DEVICE_CHANGELIST).context["action_form"].fields["action"].choices
    response = apply_action(client, "set_send_interval", [device], send_interval=120)

    assert {name for name, _ in offered} >= {"deactivate", "activate", "export_csv"}
    assert not {name for name, _ in offered} & {"set_send_interval", "set_qos"}
    assert "No action selected." in messages_of(response)
    device.config.refresh_from_db()
    assert device.config.version == 1


def test_deactivate_asks_first_with_the_count_then_deactivates(admin_client, owner, django_capture_on_commit_callbacks):
    devices = [register_device(owner=owner) for _ in range(3)]
    services.devices_deactivate(device_ids=[devices[0].device_id])

    confirm = run_action(admin_client, "deactivate", devices)
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert confirm.context["device_count"] == 3
    assert "3 devices</strong> selected" in page and "Of these, 1 is inactive already." in page
    assert 'value="Deactivate 3 devices"' in page
    assert Device.objects.filter(is_active=True).count() == 2  # nothing changed yet

    with django_capture_on_commit_callbacks(execute=True):
        response = apply_action(admin_client, "deactivate", devices)

    assert response.status_code == 302
    assert messages_of(response) == ["Deactivated 2 devices, 1 already inactive."]
    assert not Device.objects.filter(is_active=True).exists()
    assert device_api_topics_status(devices[1]) == 403  # the cached record was dropped


def test_activate_asks_first_then_lets_the_devices_back_in(admin_client, owner, django_capture_on_commit_callbacks):
    devices = [register_device(owner=owner) for _ in range(2)]
    with django_capture_on_commit_callbacks(execute=True):
        services.devices_deactivate(device_ids=[devices[0].device_id])
    assert device_api_topics_status(devices[0]) == 403

    confirm = run_action(admin_client, "activate", devices)
    assert confirm.status_code == 200 and confirm.context["device_count"] == 2
    assert "Of these, 1 is active already." in confirm.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = apply_action(admin_client, "activate", devices)

    assert messages_of(response) == ["Activated 1 device, 1 already active."]
    assert Device.objects.filter(is_active=True).count() == 2
    assert device_api_topics_status(devices[0]) == 200


def test_activating_across_all_pages_changes_only_the_filtered_devices(admin_client, owner):
    berlin = [register_device(owner=owner, city="Berlin") for _ in range(3)]
    porto = register_device(owner=owner, city="Porto")
    services.devices_deactivate(device_ids=[d.device_id for d in [*berlin, porto]])
    url = f"{DEVICE_CHANGELIST}?q=berlin"

    confirm = run_action(admin_client, "activate", berlin[:1], url=url, select_across=1)
    assert confirm.context["device_count"] == 3
    response = apply_action(admin_client, "activate", berlin[:1], url=url, select_across=1)

    assert response.status_code == 302
    assert set(Device.objects.filter(is_active=True).values_list("city", flat=True)) == {"Berlin"}
    assert Device.objects.filter(is_active=True).count() == 3


def test_staff_without_the_change_permission_cannot_deactivate_or_activate(owner):
    device = register_device(owner=owner)
    client = login(UserFactory(is_staff=True, permissions=["devices.view_device"]))

    offered = {name for name, _ in client.get(DEVICE_CHANGELIST).context["action_form"].fields["action"].choices}
    response = apply_action(client, "deactivate", [device])

    assert not offered & {"deactivate", "activate"}
    assert "No action selected." in messages_of(response)
    device.refresh_from_db()
    assert device.is_active


def test_export_csv_streams_every_selected_device(admin_client, owner):
    device = register_device(owner=owner, city="=HYPERLINK(1)", sensor_model="DHT22", latitude=-33.9, longitude=18.4)
    services.config_update(device=device, send_interval=45)
    services.config_mark_applied(device_id=device.device_id, version=1)
    register_device(owner=owner)  # not selected

    response = run_action(admin_client, "export_csv", [device])

    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="devices-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "device_id",
        "mac_address",
        "owner",
        "measurement_type",
        "city",
        "latitude",
        "longitude",
        "sensor_model",
        "is_active",
        "last_seen",
        "config_version",
        "applied_version",
        "send_interval",
        "qos",
    ]
    assert rows[1:] == [
        [
            device.device_id,
            device.mac_address,
            owner.slug,
            "temperature",
            "'=HYPERLINK(1)",
            "-33.9",
            "18.4",
            "DHT22",
            "true",
            device.last_seen.isoformat(),
            "2",
            "1",
            "45",
            "1",
        ]
    ]
