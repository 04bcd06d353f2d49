"""A device's one history: its config changes from every path (the admin's inline, bulk actions,
the management API, the legacy API), and the moves of its topics — its owner, city or
measurement type changed, so its base topic did — from every path that makes them, each with
who made it and through which path; shown newest first, bounded, on the device's admin page."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from devices import boot_cache, history, registration, services
from devices.models import ConfigChange, Device, MeasurementType
from tests.clients import as_user, change_form_data, login
from tests.factories import OwnerFactory, UserFactory, measurement_type, register_device, registration_payload

pytestmark = pytest.mark.django_db

Source = ConfigChange.Source


def moves(device: Device) -> list[ConfigChange]:
    return list(ConfigChange.objects.filter(device=device, kind=ConfigChange.Kind.TOPIC).order_by("changed_at", "id"))


def topic(device: Device, owner: str, city: str, mtype: str) -> str:
    return f"{owner}/{city}/{mtype}/{device.device_id}"


def served_topic(device: Device) -> str:
    """The telemetry topic the device is served at boot (through the boot cache)."""
    return boot_cache.boot_record(device.device_id)["topics"]["telemetry"]


@pytest.fixture
def superuser():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def berlin(owner):
    """A device whose topic is cached, as after a boot."""
    device = register_device(owner=owner, city="Berlin")
    served_topic(device)
    return device


# ------------------------------------------------------------------ moves of one device


class TestDeviceMoves:
    def test_a_management_api_patch_of_the_city_records_the_move_with_who_and_path(
        self, staff_user, berlin, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = as_user(staff_user).patch(
                f"/api/v1/devices/{berlin.device_id}/", {"city": "Köln"}, format="json"
            )

        assert response.status_code == 200
        [move] = moves(berlin)
        owner = berlin.owner.slug
        assert (move.old["topic"], move.new["topic"]) == (
            topic(berlin, owner, "berlin", "temperature"),
            topic(berlin, owner, "koln", "temperature"),
        )
        assert (move.old["city"], move.new["city"], move.changed_by, move.source, move.version) == (
            "Berlin",
            "Köln",
            staff_user,
            Source.API,
            None,
        )
        assert served_topic(berlin) == move.new["topic"]

    def test_a_management_api_put_of_another_owner_and_type_records_one_move(self, staff_user, berlin):
        OwnerFactory(slug="globex")
        body = {
            "owner": "globex",
            "measurement_type": "humidity",
            "city": "Berlin",
            "latitude": 52.52,
            "longitude": 13.405,
            "sensor_model": "DHT22",
            "is_active": True,
        }

        assert as_user(staff_user).put(f"/api/v1/devices/{berlin.device_id}/", body, format="json").status_code == 200

        [move] = moves(berlin)
        assert move.new["topic"] == topic(berlin, "globex", "berlin", "humidity")
        assert (move.old["owner"], move.old["measurement_type"]) == (berlin.owner.slug, "temperature")

    @pytest.mark.parametrize(
        "change", [{"sensor_model": "BME280"}, {"latitude": 1.0, "longitude": 2.0}, {"city": "BERLIN"}]
    )
    def test_a_change_that_leaves_the_topic_alone_is_no_move(self, staff_user, berlin, change):
        response = as_user(staff_user).patch(f"/api/v1/devices/{berlin.device_id}/", change, format="json")

        assert response.status_code == 200
        assert moves(berlin) == []

    def test_a_legacy_put_records_the_move_with_the_user(self, berlin):
        user = UserFactory(permissions=["devices.change_device"])

        response = as_user(user).put(f"/device/{berlin.device_id}", {"city": "Hamburg"}, format="json")

        assert response.status_code == 200
        [move] = moves(berlin)
        assert (move.new["city"], move.changed_by, move.source) == ("Hamburg", user, Source.LEGACY)

    def test_a_legacy_put_in_open_mode_records_nobody(self, settings, berlin):
        settings.DEVICES_LEGACY_API = "open"

        assert APIClient().put(f"/device/{berlin.device_id}", {"city": "Hamburg"}, format="json").status_code == 200

        [move] = moves(berlin)
        assert (move.changed_by, move.source) == (None, Source.LEGACY)

    def test_the_admin_change_form_records_the_move_with_the_admin(
        self, superuser, berlin, django_capture_on_commit_callbacks
    ):
        other = OwnerFactory(slug="globex")
        client = login(superuser)
        url = reverse("admin:devices_device_change", args=[berlin.device_id])
        data = change_form_data(client.get(url))
        data["owner"] = other.pk

        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(url, data).status_code == 302

        [move] = moves(berlin)
        assert (move.new["topic"], move.changed_by, move.source) == (
            topic(berlin, "globex", "berlin", "temperature"),
            superuser,
            Source.ADMIN,
        )
        assert served_topic(berlin) == move.new["topic"]

    def test_a_re_registration_with_another_city_records_the_move(self, owner):
        mac = "02:00:00:00:00:01"
        device = register_device(owner=owner, mac_address=mac, city="Berlin")

        response = APIClient().post(
            "/api/v1/devices/register/",
            registration_payload(owner=owner, mac_address=mac, city="Potsdam"),
            format="json",
            HTTP_X_PROVISIONING_SECRET=owner.secret,
        )

        assert response.status_code == 200
        [move] = moves(device)
        assert (move.old["city"], move.new["city"], move.source, move.changed_by) == (
            "Berlin",
            "Potsdam",
            Source.REGISTRATION,
            None,
        )

    def test_a_legacy_re_registration_with_another_type_records_the_move(self, owner):
        owner.allow_secretless_registration = True
        owner.save()
        mac = "02:00:00:00:00:02"
        device = register_device(owner=owner, mac_address=mac)
        body = {"mac_address": mac, "owner": owner.slug, "city": "Berlin", "measurement_type": "humidity"}

        assert APIClient().post("/register/", body, format="json").status_code == 200

        [move] = moves(device)
        assert (move.old["measurement_type"], move.new["measurement_type"]) == ("temperature", "humidity")

    def test_a_re_registration_with_the_same_metadata_is_no_move_and_costs_the_history_no_query(self, owner):
        device = register_device(owner=owner, mac_address="02:00:00:00:00:03", city="Berlin")
        mtype = measurement_type("temperature")

        # Firmware registers at every boot: a whole fleet does after a power cut.
        with CaptureQueriesContext(connection) as queries:
            registration.device_register(
                mac_address="02:00:00:00:00:03",
                owner=owner,
                measurement_type=mtype,
                city="Berlin",
                latitude=None,
                longitude=None,
            )

        assert moves(device) == []
        touched = " ".join(query["sql"] for query in queries)
        assert "devices_configchange" not in touched and "devices_measurementtype" not in touched

    def test_moves_and_config_changes_share_one_history(self, berlin, staff_user):
        services.config_update(device=berlin, send_interval=30, changed_by=staff_user)
        services.device_update(device=berlin, city="Potsdam", changed_by=staff_user, source=Source.API)
        services.config_update(device=berlin, qos=2, changed_by=staff_user)

        kinds = [(c.kind, c.version) for c in ConfigChange.objects.filter(device=berlin)]

        assert kinds == [("config", 3), ("topic", None), ("config", 2), ("config", 1)]


# ------------------------------------------------------- slug changes move whole fleets


class TestSlugChanges:
    def test_an_owner_slug_changed_in_the_admin_moves_every_device_of_the_owner(
        self, superuser, owner, django_capture_on_commit_callbacks
    ):
        devices = [register_device(owner=owner, city=city) for city in ("Berlin", "Oslo")]
        bystander = register_device(owner=OwnerFactory())
        for device in devices:
            served_topic(device)
        client = login(superuser)
        url = reverse("admin:devices_owner_change", args=[owner.pk])
        data = change_form_data(client.get(url))
        old_slug, data["slug"] = owner.slug, "renamed"

        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(url, data).status_code == 302

        for device, city in zip(devices, ("berlin", "oslo"), strict=True):
            [move] = moves(device)
            assert (move.old["topic"], move.new["topic"]) == (
                topic(device, old_slug, city, "temperature"),
                topic(device, "renamed", city, "temperature"),
            )
            assert (move.changed_by, move.source) == (superuser, Source.ADMIN)
            assert served_topic(device) == move.new["topic"]
        assert moves(bystander) == []

    def test_an_owner_slug_patched_through_the_api_moves_its_devices(
        self, staff_user, berlin, django_capture_on_commit_callbacks
    ):
        old_slug = berlin.owner.slug

        with django_capture_on_commit_callbacks(execute=True):
            response = as_user(staff_user).patch(f"/api/v1/owners/{old_slug}/", {"slug": "renamed"}, format="json")

        assert response.status_code == 200 and response.json()["slug"] == "renamed"
        [move] = moves(berlin)
        assert (move.old["owner"], move.new["owner"], move.changed_by, move.source) == (
            old_slug,
            "renamed",
            staff_user,
            Source.API,
        )
        assert served_topic(berlin).startswith("renamed/")

    def test_an_owner_change_that_keeps_the_slug_moves_nothing(self, staff_user, berlin):
        response = as_user(staff_user).patch(f"/api/v1/owners/{berlin.owner.slug}/", {"name": "New"}, format="json")

        assert response.status_code == 200
        assert moves(berlin) == []

    def test_a_measurement_type_slug_changed_in_the_admin_moves_its_devices_only(
        self, superuser, owner, django_capture_on_commit_callbacks
    ):
        thermometer = register_device(owner=owner, measurement_type_slug="temperature")
        hygrometer = register_device(owner=owner, measurement_type_slug="humidity")
        served_topic(thermometer)
        mtype = MeasurementType.objects.get(slug="temperature")
        client = login(superuser)
        url = reverse("admin:devices_measurementtype_change", args=[mtype.pk])
        data = change_form_data(client.get(url))
        data["slug"] = "air-temperature"

        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(url, data).status_code == 302

        [move] = moves(thermometer)
        assert (move.old["measurement_type"], move.new["measurement_type"], move.changed_by, move.source) == (
            "temperature",
            "air-temperature",
            superuser,
            Source.ADMIN,
        )
        assert served_topic(thermometer).split("/")[2] == "air-temperature"
        assert moves(hygrometer) == []

    def test_a_slug_change_costs_the_same_queries_for_3_devices_as_for_12(self, monkeypatch):
        monkeypatch.setattr(history, "BULK_BATCH_SIZE", 50)

        def rename(device_count: int) -> int:
            owner = OwnerFactory()
            for _ in range(device_count):
                register_device(owner=owner)
            with CaptureQueriesContext(connection) as queries:
                services.owner_update(owner=owner, slug=f"{owner.slug}-renamed")
            assert ConfigChange.objects.filter(device__owner=owner, kind="topic").count() == device_count
            return len(queries)

        assert rename(3) == rename(12)

    def test_a_fleet_larger_than_a_batch_is_recorded_whole(self, monkeypatch, owner):
        monkeypatch.setattr(history, "BULK_BATCH_SIZE", 2)
        devices = [register_device(owner=owner) for _ in range(5)]

        services.measurement_type_update(measurement_type=measurement_type("temperature"), slug="temp")

        assert all(len(moves(device)) == 1 for device in devices)

    def test_a_taken_slug_is_a_clear_error_and_moves_nothing(self, berlin):
        other = OwnerFactory()

        with pytest.raises(services.DomainError, match="already exists"):
            services.owner_update(owner=berlin.owner, slug=other.slug)

        assert moves(berlin) == []


# ------------------------------------------------------------ the history on the admin page


def history_rows(client: Client, device: Device) -> list[ConfigChange]:
    response = client.get(reverse("admin:devices_device_change", args=[device.device_id]))
    assert response.status_code == 200
    [inline] = [i for i in response.context["inline_admin_formsets"] if i.opts.model is ConfigChange]
    return [form.instance for form in inline.formset.forms]


def test_the_device_page_shows_changes_from_every_path_in_one_history_newest_first(superuser, berlin, settings):
    settings.DEVICES_LEGACY_API = "open"
    client = login(superuser)
    url = reverse("admin:devices_device_change", args=[berlin.device_id])
    data = change_form_data(client.get(url))
    data["config-0-send_interval"] = 15
    assert client.post(url, data).status_code == 302  # the inline
    bulk = {
        "action": "set_qos",
        "apply": "Apply",
        "select_across": 0,
        "qos": 2,
        ACTION_CHECKBOX_NAME: [berlin.device_id],
    }
    assert client.post(reverse("admin:devices_device_changelist"), bulk).status_code == 302
    staff = UserFactory(permissions=["devices.change_deviceconfig", "devices.change_device"])
    api = as_user(staff)
    config = api.patch(f"/api/v1/devices/{berlin.device_id}/config/", {"send_interval": 300}, format="json")
    move = api.patch(f"/api/v1/devices/{berlin.device_id}/", {"city": "Oslo"}, format="json")
    legacy = APIClient().post(f"/configs/{berlin.device_id}", {"qos": 0}, format="json")
    assert (config.status_code, move.status_code, legacy.status_code) == (200, 200, 200)

    rows = history_rows(client, berlin)

    assert [(row.kind, row.source) for row in rows] == [
        ("config", Source.LEGACY),
        ("topic", Source.API),
        ("config", Source.API),
        ("config", Source.BULK),
        ("config", Source.ADMIN),
        ("config", Source.REGISTRATION),
    ]
    page = client.get(url).content.decode()
    assert "topic move" in page and f"oslo/temperature/{berlin.device_id}" in page


def test_the_device_page_shows_the_latest_20_entries(superuser, berlin):
    for interval in range(2, 27):
        services.config_update(device=berlin, send_interval=interval)

    rows = history_rows(login(superuser), berlin)

    assert [row.version for row in rows] == list(range(26, 6, -1))
