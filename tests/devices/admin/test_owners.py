"""The owner and measurement type pages of the admin: device counts, the provisioning secret shown
once when an owner is added and when its secret is rotated, and a renamed slug moving the topics
devices are served."""

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from devices import services
from devices.models import MeasurementType, Owner
from tests.clients import change_form_data, login
from tests.devices.admin.helpers import device_api_topics, messages_of
from tests.factories import OwnerFactory, UserFactory, register_device

pytestmark = pytest.mark.django_db

# ---------------------------------------------------------------------------------- owners


def test_owner_changelist_counts_devices(admin_client, owner):
    register_device(owner=owner)
    register_device(owner=owner)
    OwnerFactory()

    response = admin_client.get(reverse("admin:devices_owner_changelist"))

    assert response.status_code == 200
    counts = {o.slug: o.device_count for o in response.context["cl"].result_list}
    assert counts[owner.slug] == 2 and sorted(counts.values()) == [0, 2]


def test_adding_an_owner_shows_its_secret_once_and_the_secret_registers_devices(admin_client):
    response = admin_client.post(reverse("admin:devices_owner_add"), {"name": "Acme Sensors", "slug": "acme"})

    assert response.status_code == 200
    secret = response.context["secret"]
    owner = Owner.objects.get(slug="acme")
    assert services.owner_secret_matches(owner, secret)
    assert secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert messages_of(response) == []
    assert owner.provisioning_secret_digest not in response.content.decode()
    change_page = admin_client.get(reverse("admin:devices_owner_change", args=[owner.pk])).content.decode()
    assert secret not in change_page and owner.provisioning_secret_digest not in change_page
    assert secret not in LogEntry.objects.get(object_id=str(owner.pk)).change_message


def test_adding_an_owner_with_a_taken_slug_is_a_form_error(admin_client, owner):
    response = admin_client.post(reverse("admin:devices_owner_add"), {"name": "Copy", "slug": owner.slug})

    assert response.status_code == 200
    assert "slug" in response.context["adminform"].form.errors
    assert Owner.objects.count() == 1


def test_rotating_the_secret_shows_the_new_one_and_the_old_one_works_during_grace(admin_client, owner):
    url = reverse("admin:devices_owner_rotate_secret", args=[owner.pk])
    confirm = admin_client.get(url)
    assert confirm.status_code == 200
    assert services.owner_secret_matches(Owner.objects.get(), owner.secret)  # GET changes nothing

    response = admin_client.post(url)

    assert response.status_code == 200
    new_secret = response.context["secret"]
    assert new_secret != owner.secret and new_secret in response.content.decode()
    assert "keeps working until" in response.content.decode()
    owner.refresh_from_db()
    assert services.owner_secret_matches(owner, new_secret)
    assert services.owner_secret_matches(owner, owner.secret)  # the previous one, in grace
    assert messages_of(response) == []


def test_staff_without_owner_change_permission_cannot_rotate_the_secret(owner):
    client = login(UserFactory(is_staff=True, permissions=["devices.view_owner"]))

    assert client.post(reverse("admin:devices_owner_rotate_secret", args=[owner.pk])).status_code == 403
    owner.refresh_from_db()
    assert services.owner_secret_matches(owner, owner.secret) and owner.secret_rotated_at is None


def test_renaming_an_owner_slug_changes_the_topics_devices_are_served(
    admin_client, owner, django_capture_on_commit_callbacks
):
    device = register_device(owner=owner)
    assert device_api_topics(device)["telemetry"].startswith(f"{owner.slug}/")
    url = reverse("admin:devices_owner_change", args=[owner.pk])
    data = change_form_data(admin_client.get(url))
    data["slug"] = "renamed"

    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(url, data).status_code == 302

    assert device_api_topics(device)["telemetry"].startswith("renamed/")


def test_renaming_a_measurement_type_slug_changes_the_topics_devices_are_served(
    admin_client, owner, django_capture_on_commit_callbacks
):
    device = register_device(owner=owner, measurement_type_slug="temperature")
    assert device_api_topics(device)["telemetry"].split("/")[2] == "temperature"
    mtype = MeasurementType.objects.get(slug="temperature")
    url = reverse("admin:devices_measurementtype_change", args=[mtype.pk])
    data = change_form_data(admin_client.get(url))
    data["slug"] = "air-temperature"

    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(url, data).status_code == 302

    assert device_api_topics(device)["telemetry"].split("/")[2] == "air-temperature"
