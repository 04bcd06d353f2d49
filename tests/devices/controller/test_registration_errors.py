"""What registration refuses, as JSON and never a 500, registering nothing: an invalid or missing
field (400, naming it), a body that is not a JSON object (400), not JSON (415) or too large (413),
and any method but POST (405)."""

import json

import pytest
from rest_framework.test import APIClient

from devices.models import MeasurementType
from tests.devices.controller.helpers import REGISTER, assert_json_error, nothing_registered, register
from tests.factories import registration_payload

pytestmark = pytest.mark.django_db

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
