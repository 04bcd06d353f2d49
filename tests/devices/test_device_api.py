"""The device-facing API: registration, topics, config (ETag / 304, served from the cache) and
the applied-version report. Every refusal is JSON with the right status, never a 500."""

import datetime as dt
import json

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from config.credentials import credential_digest
from config.tokens import api_token_issue
from devices import services
from devices.identity import device_id_for_mac
from devices.models import ConfigChange, Device, DeviceConfig, DeviceEvent, MeasurementType
from tests.factories import OwnerFactory, UserFactory, next_mac, register_device, registration_payload

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/devices/register/"


def topics_url(device_id: str) -> str:
    return f"/api/v1/devices/{device_id}/topics/"


def config_url(device_id: str) -> str:
    return f"/api/v1/devices/{device_id}/config/"


def applied_url(device_id: str) -> str:
    return f"/api/v1/devices/{device_id}/config/applied/"


def register(payload: dict, *, secret: str | None = None, client: APIClient | None = None):
    headers = {"HTTP_X_PROVISIONING_SECRET": secret} if secret is not None else {}
    return (client or APIClient()).post(REGISTER, payload, format="json", **headers)


def as_device(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {key}")
    return client


def as_token_of(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user)}")
    return client


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def nothing_registered() -> bool:
    return not (Device.objects.exists() or DeviceConfig.objects.exists() or DeviceEvent.objects.exists())


# ------------------------------------------------------------------------------ registration


def test_a_new_mac_is_registered_with_201_key_topics_and_config(owner):
    mac = "5e:cf:7f:a:b:c"
    response = register(registration_payload(owner=owner, mac_address=mac), secret=owner.secret)

    assert response.status_code == 201
    body = response.json()
    device_id = device_id_for_mac(mac)
    base = f"{owner.slug}/berlin/temperature/{device_id}"
    assert set(body) == {"device_id", "device_key", "is_new", "topics", "config"}
    assert body["device_id"] == device_id
    assert body["is_new"] is True
    assert body["topics"] == {"telemetry": base, "config": f"{base}/config", "status": f"{base}/status"}
    assert set(body["config"]) == {"send_interval", "qos", "version", "updated_at"}
    assert body["config"]["version"] == 1
    device = Device.objects.get()
    assert device.mac_address == "5E:CF:7F:0A:0B:0C"
    assert device.owner == owner
    assert DeviceConfig.objects.filter(device=device).count() == 1
    # Only the digest of the key is kept.
    assert device.key_digest == credential_digest(body["device_key"])
    assert body["device_key"] not in device.key_digest


def test_every_notation_of_one_mac_reaches_the_same_device(owner):
    first = register(registration_payload(owner=owner, mac_address="5e:cf:7f:a:b:c"), secret=owner.secret)
    again = register(registration_payload(owner=owner, mac_address="5ECF.7F0A.0B0C"), secret=owner.secret)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["device_id"] == first.json()["device_id"]
    assert Device.objects.count() == 1


def test_a_known_mac_gets_200_the_same_id_and_a_new_key_while_the_old_key_stops_working(
    owner, django_capture_on_commit_callbacks
):
    payload = registration_payload(owner=owner)
    first = register(payload, secret=owner.secret).json()
    old_key = first["device_key"]
    assert as_device(old_key).get(topics_url(first["device_id"])).status_code == 200  # now cached

    with django_capture_on_commit_callbacks(execute=True):
        response = register(payload, secret=owner.secret)

    assert response.status_code == 200
    body = response.json()
    assert body["is_new"] is False
    assert body["device_id"] == first["device_id"]
    assert body["device_key"] != old_key
    assert as_device(body["device_key"]).get(topics_url(body["device_id"])).status_code == 200
    assert as_device(old_key).get(topics_url(body["device_id"])).status_code == 401
    assert Device.objects.count() == 1


def test_registering_again_updates_the_metadata_and_keeps_the_config(owner):
    mac = next_mac()
    register(registration_payload(owner=owner, mac_address=mac), secret=owner.secret)

    response = register(
        registration_payload(
            owner=owner,
            mac_address=mac,
            city="München",
            latitude=48.137,
            longitude=11.575,
            measurement_type="humidity",
            sensor_model="BME280",
        ),
        secret=owner.secret,
    )

    assert response.status_code == 200
    body = response.json()
    assert body["topics"]["telemetry"] == f"{owner.slug}/munchen/humidity/{body['device_id']}"
    assert body["config"]["version"] == 1
    device = Device.objects.get()
    assert (device.city, device.latitude, device.longitude, device.measurement_type.slug, device.sensor_model) == (
        "München",
        48.137,
        11.575,
        "humidity",
        "BME280",
    )
    assert ConfigChange.objects.filter(device=device, kind=ConfigChange.Kind.CONFIG).count() == 1
    move = ConfigChange.objects.get(device=device, kind=ConfigChange.Kind.TOPIC)
    assert (move.old["topic"], move.new["topic"], move.source, move.changed_by) == (
        f"{owner.slug}/berlin/temperature/{device.device_id}",
        body["topics"]["telemetry"],
        ConfigChange.Source.REGISTRATION,
        None,
    )


def test_a_new_device_takes_its_config_defaults_from_the_owner_first():
    owner = OwnerFactory(default_send_interval=300, default_qos=0)
    MeasurementType.objects.filter(slug="temperature").update(default_send_interval=900, default_qos=2)

    config = register(registration_payload(owner=owner), secret=owner.secret).json()["config"]

    assert (config["send_interval"], config["qos"]) == (300, 0)


def test_without_owner_defaults_the_measurement_type_gives_the_config(owner):
    MeasurementType.objects.filter(slug="temperature").update(default_send_interval=900, default_qos=2)

    config = register(registration_payload(owner=owner), secret=owner.secret).json()["config"]

    assert (config["send_interval"], config["qos"]) == (900, 2)


def test_without_owner_or_type_defaults_the_settings_give_the_config(owner, settings):
    settings.DEVICES_DEFAULT_SEND_INTERVAL = 45
    settings.DEVICES_DEFAULT_QOS = 2
    MeasurementType.objects.filter(slug="temperature").update(default_send_interval=None, default_qos=None)

    config = register(registration_payload(owner=owner), secret=owner.secret).json()["config"]

    assert (config["send_interval"], config["qos"]) == (45, 2)


def test_a_missing_provisioning_secret_is_401_and_creates_nothing(owner):
    body = assert_json_error(register(registration_payload(owner=owner)), 401)

    assert "X-Provisioning-Secret" in body["detail"]
    assert nothing_registered()


def test_a_wrong_provisioning_secret_is_403_and_creates_nothing(owner):
    other = OwnerFactory()

    assert_json_error(register(registration_payload(owner=owner), secret="not-the-secret"), 403)
    assert_json_error(register(registration_payload(owner=owner), secret=other.secret), 403)
    assert nothing_registered()


def test_an_unknown_owner_is_403_and_creates_nothing(owner):
    body = assert_json_error(register(registration_payload(owner="no-such-owner"), secret=owner.secret), 403)

    assert body == {"detail": "Unknown owner or wrong provisioning secret."}
    assert nothing_registered()


def test_an_owner_that_allows_it_accepts_registrations_without_a_secret():
    owner = OwnerFactory(allow_secretless_registration=True)

    assert register(registration_payload(owner=owner)).status_code == 201
    # A secret that is sent must still be the right one.
    assert_json_error(register(registration_payload(owner=owner), secret="wrong"), 403)


def test_after_rotation_the_new_secret_works_and_the_previous_one_only_during_the_grace_period(owner):
    original = owner.secret
    rotated = services.owner_rotate_secret(owner=owner)

    assert register(registration_payload(owner=owner), secret=rotated).status_code == 201
    assert register(registration_payload(owner=owner), secret=original).status_code == 201

    owner.refresh_from_db()
    owner.previous_secret_valid_until = timezone.now() - dt.timedelta(seconds=1)
    owner.save(update_fields=["previous_secret_valid_until"])

    assert_json_error(register(registration_payload(owner=owner), secret=original), 403)
    assert register(registration_payload(owner=owner), secret=rotated).status_code == 201


def test_a_grace_period_of_zero_retires_the_previous_secret_at_once(owner, settings):
    settings.DEVICES_SECRET_ROTATION_GRACE_SECONDS = 0
    original = owner.secret
    services.owner_rotate_secret(owner=owner)

    assert_json_error(register(registration_payload(owner=owner), secret=original), 403)


def test_a_second_rotation_retires_the_secret_before_the_previous_one(owner):
    original = owner.secret
    services.owner_rotate_secret(owner=owner)
    services.owner_rotate_secret(owner=owner)

    assert_json_error(register(registration_payload(owner=owner), secret=original), 403)


def test_a_mac_of_another_owner_is_409_and_the_device_stays_where_it_was(owner):
    mac = next_mac()
    first = register(registration_payload(owner=owner, mac_address=mac), secret=owner.secret).json()
    intruder = OwnerFactory()

    body = assert_json_error(
        register(registration_payload(owner=intruder, mac_address=mac), secret=intruder.secret), 409
    )

    assert "another owner" in body["detail"]
    device = Device.objects.get()
    assert device.owner == owner
    assert device.key_digest == credential_digest(first["device_key"])


def test_a_deactivated_device_registering_again_is_403_and_stays_deactivated(owner):
    payload = registration_payload(owner=owner)
    register(payload, secret=owner.secret)
    services.devices_deactivate(device_ids=[Device.objects.get().device_id])

    body = assert_json_error(register(payload, secret=owner.secret), 403)

    assert "deactivated" in body["detail"]
    assert not Device.objects.get().is_active


# ----------------------------------------------------------------------- registration errors


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mac_address", "not-a-mac"),
        ("mac_address", "5e:cf:7f:0a:0b"),
        ("mac_address", "5e:cf:7f:0a:0b:0c:0d"),
        ("mac_address", 12345),
        ("mac_address", None),
        ("latitude", 90.01),
        ("latitude", -90.01),
        ("longitude", 180.5),
        ("longitude", -181),
        ("latitude", "NaN"),
        ("longitude", "Infinity"),
        ("latitude", "-inf"),
        ("latitude", "north"),
        ("latitude", True),
        ("latitude", [52]),
        ("city", ""),
        ("city", "x" * 101),
        ("owner", "Not A Slug"),
        ("sensor_model", "x" * 101),
        ("height", "NaN"),
    ],
)
def test_an_invalid_field_is_400_naming_the_field(owner, field, value):
    payload = registration_payload(owner=owner)
    payload[field] = value

    body = assert_json_error(register(payload, secret=owner.secret), 400)

    assert list(body) == [field]
    assert nothing_registered()


@pytest.mark.parametrize("field", ["mac_address", "owner", "measurement_type", "city", "latitude", "longitude"])
def test_a_missing_field_is_400_naming_the_field(owner, field):
    payload = registration_payload(owner=owner)
    del payload[field]

    body = assert_json_error(register(payload, secret=owner.secret), 400)

    assert body == {field: ["This field is required."]}


def test_an_unknown_measurement_type_is_400_listing_the_known_types(owner):
    body = assert_json_error(
        register(registration_payload(owner=owner, measurement_type="radiation"), secret=owner.secret), 400
    )

    message = body["measurement_type"][0]
    assert "radiation" in message
    for known in MeasurementType.objects.values_list("slug", flat=True):
        assert known in message
    assert nothing_registered()


def test_a_measurement_type_added_by_an_admin_is_accepted_without_code_changes(owner):
    MeasurementType.objects.create(slug="radiation", name="Radiation", unit="µSv/h")

    response = register(registration_payload(owner=owner, measurement_type="radiation"), secret=owner.secret)

    assert response.status_code == 201
    assert response.json()["topics"]["telemetry"].split("/")[2] == "radiation"


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"", b"null", b'"a string"', b"42", b'{"latitude": NaN}', b'{"latitude": Infinity}', b"\xff\xfe"],
)
def test_a_body_that_is_not_a_json_object_is_400(owner, raw):
    response = APIClient().post(REGISTER, raw, content_type="application/json", HTTP_X_PROVISIONING_SECRET=owner.secret)

    body = assert_json_error(response, 400)
    assert body
    assert nothing_registered()


def test_a_json_list_instead_of_an_object_is_400(owner):
    response = APIClient().post(
        REGISTER,
        json.dumps([registration_payload(owner=owner)]),
        content_type="application/json",
        HTTP_X_PROVISIONING_SECRET=owner.secret,
    )

    assert "non_field_errors" in assert_json_error(response, 400)


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", "application/xml"])
def test_a_body_that_is_not_json_by_content_type_is_415(owner, content_type):
    response = APIClient().post(
        REGISTER, "mac_address=5e:cf:7f:a:b:c", content_type=content_type, HTTP_X_PROVISIONING_SECRET=owner.secret
    )

    assert "Unsupported media type" in assert_json_error(response, 415)["detail"]
    assert nothing_registered()


def test_a_body_over_the_default_limit_of_64_kib_is_413(owner):
    payload = registration_payload(owner=owner, sensor_model="x" * (64 * 1024))

    body = assert_json_error(register(payload, secret=owner.secret), 413)

    assert body == {"detail": "Request body exceeds the size limit."}
    assert nothing_registered()


def test_the_body_limit_comes_from_the_request_body_setting(owner, settings):
    # The middleware reads the limit once, when a handler loads it: a fresh client does.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 512
    payload = registration_payload(owner=owner, sensor_model="x" * 100)
    assert len(json.dumps(payload)) < 512
    assert register(payload, secret=owner.secret).status_code == 201

    padded = registration_payload(owner=owner, sensor_model="x" * 100, city="y" * 100, padding="z" * 400)

    assert_json_error(register(padded, secret=owner.secret), 413)


def test_an_invalid_content_length_is_400(owner):
    response = APIClient().generic(
        "POST",
        REGISTER,
        json.dumps(registration_payload(owner=owner)),
        content_type="application/json",
        CONTENT_LENGTH="many",
        HTTP_X_PROVISIONING_SECRET=owner.secret,
    )

    assert_json_error(response, 400)


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_registration_answers_only_post(method):
    response = getattr(APIClient(), method)(REGISTER)

    assert_json_error(response, 405)


# -------------------------------------------------------------------------- topics and config


def test_a_device_fetches_its_topics_and_config_with_its_key(owner):
    first = register(registration_payload(owner=owner), secret=owner.secret).json()
    device = as_device(first["device_key"])

    topics = device.get(topics_url(first["device_id"]))
    config = device.get(config_url(first["device_id"]))

    assert topics.status_code == 200
    assert topics.json() == first["topics"]
    assert config.status_code == 200
    assert config.json() == first["config"]


def test_staff_with_a_token_or_a_session_read_any_devices_topics_and_config(device):
    staff = UserFactory(is_staff=True)
    by_session = APIClient()
    by_session.force_login(staff)

    for client in (as_token_of(staff), by_session):
        assert client.get(topics_url(device.device_id)).json() == device.topics
        assert client.get(config_url(device.device_id)).json()["version"] == 1


def test_a_user_who_is_not_staff_may_not_read_a_device(device):
    client = as_token_of(UserFactory())

    assert_json_error(client.get(topics_url(device.device_id)), 403)
    assert_json_error(client.get(config_url(device.device_id)), 403)


def test_another_devices_key_is_401(owner):
    device, other = register_device(owner=owner), register_device(owner=owner)

    for url in (topics_url(device.device_id), config_url(device.device_id)):
        response = as_device(other.key).get(url)
        assert_json_error(response, 401)
        assert response["WWW-Authenticate"] == "Device"


@pytest.mark.parametrize("header", ["Device", "Device a b", "Device wrong-key", "Token wrong-token"])
def test_a_malformed_or_wrong_credential_is_401(device, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    assert_json_error(client.get(config_url(device.device_id)), 401)


def test_without_credentials_topics_and_config_are_401(device):
    for url in (topics_url(device.device_id), config_url(device.device_id)):
        assert_json_error(APIClient().get(url), 401)


@pytest.mark.parametrize("device_id", ["0123456789abcdef", "nothex", "0123456789ABCDEF", "a" * 200])
def test_an_unknown_device_is_404(device, device_id):
    staff = as_token_of(UserFactory(is_staff=True))

    assert_json_error(staff.get(config_url(device_id)), 404)
    assert_json_error(staff.get(topics_url(device_id)), 404)
    assert_json_error(as_device(device.key).get(config_url(device_id)), 404)


def test_a_deactivated_devices_key_is_403(device, django_capture_on_commit_callbacks):
    client = as_device(device.key)
    assert client.get(config_url(device.device_id)).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        services.devices_deactivate(device_ids=[device.device_id])

    assert "deactivated" in assert_json_error(client.get(config_url(device.device_id)), 403)["detail"]
    assert_json_error(client.get(topics_url(device.device_id)), 403)


def test_the_config_carries_a_strong_etag_derived_from_its_version(device_client, device):
    response = device_client.get(config_url(device.device_id))

    etag = response["ETag"]
    assert etag == f'"{device.device_id}-v1"'
    assert not etag.startswith("W/")


@pytest.mark.parametrize(
    "header",
    [
        '"{etag}"',
        '"other", "{etag}"',
        '"other","{etag}"',
        'W/"{etag}"',  # weakened by a proxy: weak comparison still matches
        "*",
    ],
)
def test_if_none_match_with_the_current_etag_is_304_without_a_body(device_client, device, header):
    etag = device_client.get(config_url(device.device_id))["ETag"]

    response = device_client.get(config_url(device.device_id), HTTP_IF_NONE_MATCH=header.format(etag=etag.strip('"')))

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


def test_a_stale_etag_gets_the_changed_config_with_a_new_etag(
    device_client, device, staff_user, django_capture_on_commit_callbacks
):
    stale = device_client.get(config_url(device.device_id))["ETag"]
    with django_capture_on_commit_callbacks(execute=True):
        services.config_update(device=device, send_interval=600, changed_by=staff_user)

    response = device_client.get(config_url(device.device_id), HTTP_IF_NONE_MATCH=stale)

    assert response.status_code == 200
    assert response["ETag"] == f'"{device.device_id}-v2"'
    assert response.json()["send_interval"] == 600
    assert response.json()["version"] == 2


def test_the_config_is_served_from_the_cache_without_a_database_query(device_client, device, django_assert_num_queries):
    # Cold: one query builds the cached record, one stamps last_seen.
    with django_assert_num_queries(2):
        etag = device_client.get(config_url(device.device_id))["ETag"]

    with django_assert_num_queries(0):
        assert device_client.get(config_url(device.device_id)).status_code == 200
        assert device_client.get(topics_url(device.device_id)).status_code == 200
        assert device_client.get(config_url(device.device_id), HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_an_unknown_device_is_remembered_briefly_too(django_assert_num_queries):
    staff = as_token_of(UserFactory(is_staff=True))
    staff.get(config_url("0123456789abcdef"))

    # The token lookup is the only query left: the "no such device" answer is cached.
    with django_assert_num_queries(1):
        assert_json_error(staff.get(config_url("0123456789abcdef")), 404)


def test_a_call_by_the_device_stamps_last_seen_at_most_once_per_resolution(device_client, device):
    Device.objects.update(last_seen=None)  # registration stamped it; start from "never seen"
    before = timezone.now()

    device_client.get(config_url(device.device_id))
    seen = Device.objects.get().last_seen
    device_client.get(topics_url(device.device_id))

    assert seen >= before
    assert Device.objects.get().last_seen == seen


def test_staff_reading_a_device_does_not_stamp_last_seen(device):
    Device.objects.update(last_seen=None)

    as_token_of(UserFactory(is_staff=True)).get(config_url(device.device_id))

    assert Device.objects.get().last_seen is None


def test_the_device_can_not_change_its_own_config(device_client, device):
    for method in ("put", "patch"):
        response = getattr(device_client, method)(
            config_url(device.device_id), {"send_interval": 5, "qos": 0}, format="json"
        )
        assert_json_error(response, 403)
    assert DeviceConfig.objects.get().version == 1


# ------------------------------------------------------------------------------ config/applied


def test_the_device_reports_the_version_it_applied(device_client, device):
    response = device_client.post(applied_url(device.device_id), {"version": 1}, format="json")

    assert response.status_code == 204
    config = DeviceConfig.objects.get()
    assert config.applied_version == 1
    assert config.applied_at is not None
    assert config.is_applied


def test_an_older_applied_version_leaves_the_config_pending(device_client, device, staff_user):
    services.config_update(device=device, qos=2, changed_by=staff_user)

    device_client.post(applied_url(device.device_id), {"version": 1}, format="json")

    config = DeviceConfig.objects.get()
    assert (config.version, config.applied_version, config.is_applied) == (2, 1, False)


@pytest.mark.parametrize("version", [2, 0, -1, "one", None, 1.5])
def test_a_version_that_was_never_issued_is_400(device_client, device, version):
    response = device_client.post(applied_url(device.device_id), {"version": version}, format="json")

    assert "version" in assert_json_error(response, 400)
    assert DeviceConfig.objects.get().applied_version is None


def test_staff_can_not_report_an_applied_version(device):
    staff = as_token_of(UserFactory(is_staff=True, is_superuser=True))

    assert_json_error(staff.post(applied_url(device.device_id), {"version": 1}, format="json"), 403)
    assert DeviceConfig.objects.get().applied_version is None


def test_reporting_without_credentials_is_401(device):
    assert_json_error(APIClient().post(applied_url(device.device_id), {"version": 1}, format="json"), 401)


def test_reporting_for_an_unknown_device_is_404(device_client):
    response = device_client.post(applied_url("0123456789abcdef"), {"version": 1}, format="json")

    assert_json_error(response, 404)
