"""The management API for teams: API tokens, owners, devices and their configs. Token or
session auth; Django model permissions decide who may read or change what."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from config.credentials import credential_digest
from config.models import ApiToken
from config.tokens import api_token_issue
from devices import services
from devices.models import ConfigChange, Device, DeviceConfig, Owner
from tests.factories import OwnerFactory, UserFactory, register_device, registration_payload

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
OWNERS = "/api/v1/owners/"
DEVICES = "/api/v1/devices/"
PASSWORD = "correct-horse-battery"  # what UserFactory sets


def owner_url(slug: str) -> str:
    return f"{OWNERS}{slug}/"


def rotate_url(slug: str) -> str:
    return f"{OWNERS}{slug}/rotate-secret/"


def device_url(device_id: str) -> str:
    return f"{DEVICES}{device_id}/"


def config_url(device_id: str) -> str:
    return f"{DEVICES}{device_id}/config/"


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def as_user(user) -> APIClient:
    return with_token(api_token_issue(user=user))


def device_topics(device) -> dict:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {device.key}")
    response = client.get(f"{DEVICES}{device.device_id}/topics/")
    assert response.status_code == 200, response.content
    return response.json()


def register_with(secret: str, owner: Owner):
    return APIClient().post(
        f"{DEVICES}register/", registration_payload(owner=owner), format="json", HTTP_X_PROVISIONING_SECRET=secret
    )


@pytest.fixture
def viewer():
    """May look at owners and devices, change nothing."""
    return UserFactory(permissions=["devices.view_device", "devices.view_owner"])


# ------------------------------------------------------------------------------------ tokens


def test_a_user_exchanges_username_and_password_for_a_working_token(staff_user):
    response = APIClient().post(TOKEN, {"username": staff_user.username, "password": PASSWORD}, format="json")

    assert response.status_code == 201
    token = response.json()["token"]
    assert with_token(token).get(DEVICES).status_code == 200


def test_only_the_digest_of_a_token_is_stored(staff_user):
    token = (
        APIClient().post(TOKEN, {"username": staff_user.username, "password": PASSWORD}, format="json").json()["token"]
    )

    stored = ApiToken.objects.get(user=staff_user)
    assert stored.digest == credential_digest(token)
    assert token not in {stored.digest, stored.prefix, stored.name}


@pytest.mark.parametrize(
    "credentials", [{"password": "wrong"}, {"username": "nobody"}], ids=["wrong password", "unknown user"]
)
def test_wrong_credentials_get_no_token(staff_user, credentials):
    body = {"username": staff_user.username, "password": PASSWORD, **credentials}

    response = APIClient().post(TOKEN, body, format="json")

    assert response.status_code == 401
    assert response.json() == {"detail": "Wrong username or password."}
    assert not ApiToken.objects.exists()


def test_an_inactive_user_gets_no_token_and_loses_the_tokens_it_had(staff_user):
    token = api_token_issue(user=staff_user)
    staff_user.is_active = False
    staff_user.save()

    assert (
        APIClient().post(TOKEN, {"username": staff_user.username, "password": PASSWORD}, format="json").status_code
        == 401
    )
    assert with_token(token).get(DEVICES).status_code == 401


def test_a_token_request_without_fields_is_400():
    response = APIClient().post(TOKEN, {}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}


def test_an_unknown_token_is_401():
    response = with_token("made-up").get(DEVICES)

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


# ------------------------------------------------------------------------------------ owners


def test_creating_an_owner_returns_its_provisioning_secret_once(staff_user):
    response = as_user(staff_user).post(OWNERS, {"name": "Acme Sensors", "default_qos": 2}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["slug"] == "acme-sensors"
    assert body["default_qos"] == 2
    secret = body["provisioning_secret"]
    owner = Owner.objects.get(slug="acme-sensors")
    assert owner.provisioning_secret_digest == credential_digest(secret)
    assert register_with(secret, owner).status_code == 201


def test_the_secret_never_appears_when_listing_or_reading_owners(staff_user):
    client = as_user(staff_user)
    secret = client.post(OWNERS, {"name": "Acme", "slug": "acme"}, format="json").json()["provisioning_secret"]

    for response in (client.get(OWNERS), client.get(owner_url("acme"))):
        assert response.status_code == 200
        assert secret.encode() not in response.content
        assert b"secret_digest" not in response.content
        assert b"provisioning_secret" not in response.content


def test_owners_are_listed_paginated(staff_user):
    OwnerFactory.create_batch(3)

    body = as_user(staff_user).get(OWNERS, {"limit": 2}).json()

    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"]


def test_a_duplicate_owner_slug_is_400(staff_user, owner):
    response = as_user(staff_user).post(OWNERS, {"name": "Copy", "slug": owner.slug}, format="json")

    assert response.status_code == 400
    assert "slug" in response.json()
    assert Owner.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "x", "slug": "not a slug"},
        {"name": "x", "default_send_interval": 0},
        {"name": "x", "default_qos": 3},
        {"name": "!!!"},
    ],
)
def test_an_invalid_owner_is_400(staff_user, body):
    response = as_user(staff_user).post(OWNERS, body, format="json")

    assert response.status_code == 400
    assert response.json()
    assert not Owner.objects.exists()


def test_rotating_the_secret_returns_a_new_one_and_keeps_the_previous_for_the_grace_period(staff_user, owner):
    response = as_user(staff_user).post(rotate_url(owner.slug))

    assert response.status_code == 200
    body = response.json()
    new_secret = body["provisioning_secret"]
    assert new_secret != owner.secret
    assert body["previous_secret_valid_until"]
    assert register_with(new_secret, owner).status_code == 201
    assert register_with(owner.secret, owner).status_code == 201


def test_rotating_needs_the_change_owner_permission(viewer, owner):
    response = as_user(viewer).post(rotate_url(owner.slug))

    assert response.status_code == 403
    owner.refresh_from_db()
    assert owner.provisioning_secret_digest == credential_digest(owner.secret)
    assert not owner.previous_secret_digest


def test_rotating_anonymously_is_401(owner):
    assert APIClient().post(rotate_url(owner.slug)).status_code == 401


def test_rotating_an_unknown_owner_is_404(staff_user):
    assert as_user(staff_user).post(rotate_url("no-such-owner")).status_code == 404


def test_renaming_an_owners_slug_moves_its_devices_topics_at_once(
    staff_user, device, django_capture_on_commit_callbacks
):
    device_topics(device)  # cached

    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(staff_user).patch(owner_url(device.owner.slug), {"slug": "renamed"}, format="json")

    assert response.status_code == 200
    assert device_topics(device)["telemetry"].startswith("renamed/")


@pytest.mark.parametrize(("method", "path"), [("get", ""), ("post", ""), ("get", "{slug}/"), ("patch", "{slug}/")])
def test_owners_need_model_permissions(owner, method, path):
    url = OWNERS + path.format(slug=owner.slug)

    assert getattr(as_user(UserFactory()), method)(url, {"name": "X"}, format="json").status_code == 403
    assert getattr(APIClient(), method)(url, {"name": "X"}, format="json").status_code == 401
    assert list(Owner.objects.values_list("name", flat=True)) == [owner.name]


def test_a_viewer_may_list_owners_but_not_create_one(viewer, owner):
    client = as_user(viewer)

    assert client.get(OWNERS).status_code == 200
    assert client.post(OWNERS, {"name": "X"}, format="json").status_code == 403


# ----------------------------------------------------------------------------------- devices


@pytest.fixture
def fleet():
    """Devices of two owners in several cities and types; one is deactivated."""
    acme, globex = OwnerFactory(slug="acme"), OwnerFactory(slug="globex")
    devices = {
        "acme-berlin-temp": register_device(owner=acme, city="Berlin", mac_address="02:00:00:00:00:01"),
        "acme-paris-hum": register_device(
            owner=acme, city="Paris", measurement_type_slug="humidity", mac_address="02:00:00:00:00:02"
        ),
        "globex-berlin-hum": register_device(
            owner=globex,
            city="Berlin",
            measurement_type_slug="humidity",
            mac_address="02:00:00:00:00:03",
            sensor_model="SHT31",
        ),
        "globex-rome-temp": register_device(owner=globex, city="Rome", mac_address="02:00:00:00:00:04"),
    }
    services.devices_deactivate(device_ids=[devices["globex-rome-temp"].device_id])
    return devices


def listed(client: APIClient, **params) -> set[str]:
    response = client.get(DEVICES, params)
    assert response.status_code == 200, response.content
    return {row["device_id"] for row in response.json()["results"]}


def ids(fleet: dict, *names: str) -> set[str]:
    return {fleet[name].device_id for name in names}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["acme-berlin-temp", "acme-paris-hum", "globex-berlin-hum", "globex-rome-temp"]),
        ({"owner": "acme"}, ["acme-berlin-temp", "acme-paris-hum"]),
        ({"measurement_type": "humidity"}, ["acme-paris-hum", "globex-berlin-hum"]),
        ({"city": "berlin"}, ["acme-berlin-temp", "globex-berlin-hum"]),
        ({"is_active": "false"}, ["globex-rome-temp"]),
        ({"is_active": "true", "owner": "globex"}, ["globex-berlin-hum"]),
        ({"owner": "acme", "measurement_type": "humidity", "city": "Paris"}, ["acme-paris-hum"]),
        ({"owner": "nobody"}, []),
        ({"search": "paris"}, ["acme-paris-hum"]),
        ({"search": "02:00:00:00:00:03"}, ["globex-berlin-hum"]),
        ({"search": "sht31"}, ["globex-berlin-hum"]),
    ],
)
def test_devices_are_listed_with_filters_and_search(staff_user, fleet, params, expected):
    assert listed(as_user(staff_user), **params) == ids(fleet, *expected)


def test_devices_are_found_by_their_device_id(staff_user, fleet):
    device_id = fleet["acme-paris-hum"].device_id

    assert listed(as_user(staff_user), search=device_id) == {device_id}


def test_the_device_list_is_paginated(staff_user, fleet):
    client = as_user(staff_user)

    first = client.get(DEVICES, {"limit": 3}).json()
    rest = client.get(DEVICES, {"limit": 3, "offset": 3}).json()

    assert first["count"] == 4
    assert len(first["results"]) == 3
    assert len(rest["results"]) == 1
    assert rest["next"] is None
    assert {r["device_id"] for r in first["results"] + rest["results"]} == ids(fleet, *fleet)


def test_an_invalid_filter_value_is_400(staff_user, fleet):
    response = as_user(staff_user).get(DEVICES, {"is_active": "maybe"})

    assert response.status_code == 400
    assert "is_active" in response.json()


@pytest.mark.parametrize("params", [{"limit": 10**30}, {"offset": 10**30}, {"limit": -1, "offset": "x"}])
def test_absurd_pagination_numbers_get_a_page_not_an_error(staff_user, fleet, params):
    response = as_user(staff_user).get(DEVICES, params)

    assert response.status_code == 200
    assert response.json()["count"] == 4


def test_the_device_list_costs_the_same_queries_for_any_number_of_devices(staff_user, fleet, owner):
    client = as_user(staff_user)
    client.get(DEVICES)  # the first use of a token stamps it

    def queries_to_list(expected: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert len(client.get(DEVICES).json()["results"]) == expected
        return len(captured)

    few = queries_to_list(4)
    for _ in range(10):
        register_device(owner=owner)

    assert queries_to_list(14) == few


def test_a_device_is_retrieved_with_its_topics_and_config(staff_user, device):
    response = as_user(staff_user).get(device_url(device.device_id))

    assert response.status_code == 200
    body = response.json()
    assert body["device_id"] == device.device_id
    assert body["mac_address"] == device.mac_address
    assert body["owner"] == device.owner.slug
    assert body["topics"] == device.topics
    assert body["config"]["version"] == 1
    assert body["config"]["is_applied"] is False
    assert "key_digest" not in body


def test_an_unknown_device_is_404(staff_user):
    response = as_user(staff_user).get(device_url("0123456789abcdef"))

    assert response.status_code == 404
    assert response.json() == {"detail": "No Device matches the given query."}


@pytest.mark.parametrize(
    ("change", "level", "expected"),
    [
        ({"city": "Köln"}, 1, "koln"),
        ({"owner": "globex"}, 0, "globex"),
        ({"measurement_type": "humidity"}, 2, "humidity"),
    ],
)
def test_patching_a_device_changes_its_topics_at_once(
    staff_user, device, change, level, expected, django_capture_on_commit_callbacks
):
    OwnerFactory(slug="globex")
    device_topics(device)  # cached

    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(staff_user).patch(device_url(device.device_id), change, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["topics"]["telemetry"].split("/")[level] == expected
    assert device_topics(device)["telemetry"].split("/")[level] == expected


def test_putting_a_device_replaces_its_metadata(staff_user, device):
    body = {
        "owner": device.owner.slug,
        "measurement_type": "pressure",
        "city": "Oslo",
        "latitude": 59.9,
        "longitude": 10.75,
        "sensor_model": "BMP280",
        "is_active": False,
    }

    response = as_user(staff_user).put(device_url(device.device_id), body, format="json")

    assert response.status_code == 200, response.content
    stored = Device.objects.get()
    assert (stored.measurement_type.slug, stored.city, stored.latitude, stored.sensor_model, stored.is_active) == (
        "pressure",
        "Oslo",
        59.9,
        "BMP280",
        False,
    )


def test_putting_a_device_without_all_fields_is_400(staff_user, device):
    response = as_user(staff_user).put(device_url(device.device_id), {"city": "Oslo"}, format="json")

    assert response.status_code == 400
    assert Device.objects.get().city == "Berlin"


@pytest.mark.parametrize(
    "change",
    [
        {"latitude": 91},
        {"longitude": "NaN"},
        {"owner": "no-such-owner"},
        {"owner": "nul\u0000"},
        {"owner": 12},
        {"measurement_type": "\u0000"},
        {"measurement_type": "radiation"},
        {"city": ""},
        {"is_active": "perhaps"},
    ],
)
def test_an_invalid_device_change_is_400(staff_user, device, change):
    response = as_user(staff_user).patch(device_url(device.device_id), change, format="json")

    assert response.status_code == 400
    assert list(response.json()) == list(change)


def test_the_mac_and_device_id_can_not_be_changed(staff_user, device):
    as_user(staff_user).patch(
        device_url(device.device_id),
        {"mac_address": "02:FF:FF:FF:FF:FF", "device_id": "ffffffffffffffff"},
        format="json",
    )

    stored = Device.objects.get()
    assert (stored.device_id, stored.mac_address) == (device.device_id, device.mac_address)


def test_a_deleted_device_is_gone_from_every_endpoint(staff_user, device, django_capture_on_commit_callbacks):
    device_topics(device)  # cached
    client = as_user(staff_user)

    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(device_url(device.device_id)).status_code == 204

    assert not Device.objects.exists()
    assert not DeviceConfig.objects.exists()
    assert client.get(device_url(device.device_id)).status_code == 404
    own_key = APIClient()
    own_key.credentials(HTTP_AUTHORIZATION=f"Device {device.key}")
    assert own_key.get(f"{DEVICES}{device.device_id}/topics/").status_code == 404
    assert own_key.get(f"{DEVICES}{device.device_id}/config/").status_code == 404


@pytest.mark.parametrize(
    ("method", "body"),
    [("get", None), ("patch", {"city": "Oslo"}), ("delete", None)],
)
def test_a_user_without_model_permissions_is_403(device, method, body):
    client = as_user(UserFactory(is_staff=True))

    response = getattr(client, method)(device_url(device.device_id), body, format="json")

    assert response.status_code == 403
    assert as_user(UserFactory()).get(DEVICES).status_code == 403
    assert Device.objects.get().city == "Berlin"


def test_a_viewer_may_read_devices_but_not_change_or_delete_them(viewer, device):
    client = as_user(viewer)

    assert client.get(device_url(device.device_id)).status_code == 200
    assert client.patch(device_url(device.device_id), {"city": "Oslo"}, format="json").status_code == 403
    assert client.delete(device_url(device.device_id)).status_code == 403
    assert Device.objects.filter(city="Berlin").exists()


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_anonymous_callers_and_device_keys_are_401_on_the_management_api(device, method):
    with_key = APIClient()
    with_key.credentials(HTTP_AUTHORIZATION=f"Device {device.key}")

    for client in (APIClient(), with_key):
        assert getattr(client, method)(device_url(device.device_id), {"city": "x"}, format="json").status_code == 401
    assert Device.objects.exists()


def test_a_session_user_must_send_the_csrf_token_to_change_a_device(staff_user, device):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(staff_user)

    assert client.get(device_url(device.device_id)).status_code == 200
    response = client.patch(device_url(device.device_id), {"city": "Oslo"}, format="json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


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
