"""The device event pages of the admin: events are listed, filtered by kind, and read-only."""

import pytest
from django.urls import reverse

from devices import services
from devices.models import DeviceEvent
from tests.factories import register_device

pytestmark = pytest.mark.django_db

# ---------------------------------------------------------------------------------- events


def test_device_events_are_listed_read_only_and_filtered_by_kind(admin_client, owner):
    device = register_device(owner=owner)
    services.config_update(device=device, qos=0)
    url = reverse("admin:devices_deviceevent_changelist")

    changed = admin_client.get(url, {"kind__exact": DeviceEvent.Kind.CONFIG_CHANGED})
    event = DeviceEvent.objects.get(kind=DeviceEvent.Kind.REGISTERED)
    detail = admin_client.get(reverse("admin:devices_deviceevent_change", args=[event.pk]))

    assert [e.kind for e in changed.context["cl"].result_list] == [DeviceEvent.Kind.CONFIG_CHANGED]
    assert detail.status_code == 200 and not detail.context["has_change_permission"]
    assert admin_client.get(reverse("admin:devices_deviceevent_add")).status_code == 403
