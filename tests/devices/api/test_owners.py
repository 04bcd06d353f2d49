"""Owners on the management API: created with a provisioning secret returned once and never shown
again, rotated with a grace period for the previous secret, renamed with their devices' topics;
model permissions decide who may read, create or rotate."""

import pytest
from rest_framework.test import APIClient

from config.credentials import credential_digest
from devices.models import Owner
from tests.devices.api.helpers import DEVICES, as_user, device_topics
from tests.factories import OwnerFactory, UserFactory, registration_payload

pytestmark = pytest.mark.django_db

OWNERS = "/api/v1/owners/"


def owner_url(slug: str) -> str:
    return f"{OWNERS}{slug}/"


def rotate_url(slug: str) -> str:
    return f"{OWNERS}{slug}/rotate-secret/"


def register_with(secret: str, owner: Owner):
    return APIClient().post(
        f"{DEVICES}register/", registration_payload(owner=owner), format="json", HTTP_X_PROVISIONING_SECRET=secret
    )


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
