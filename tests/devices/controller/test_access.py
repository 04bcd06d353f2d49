"""Who may read a device's topics and config: the device with its own key, or staff with a token or
a session; another device's key or a wrong credential is 401, a user who is not staff 403, a
deactivated device 403 and an unknown device 404."""

import pytest
from rest_framework.test import APIClient

from devices import services
from tests.devices.controller.helpers import as_device, as_token_of, assert_json_error, config_url, register, topics_url
from tests.factories import UserFactory, register_device, registration_payload

pytestmark = pytest.mark.django_db

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
