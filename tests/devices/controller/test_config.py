"""The config a device reads and the version it reports applied: a strong ETag and 304 while the
config is unchanged, served from the cache without a query, last_seen stamped at most once per
resolution; only the device itself reports, and only a version that was issued."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from devices import services
from devices.models import Device, DeviceConfig
from tests.devices.controller.helpers import as_token_of, assert_json_error, config_url, topics_url
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def applied_url(device_id: str) -> str:
    return f"/api/v1/devices/{device_id}/config/applied/"


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
