"""Every page of the bots' admin renders for a superuser, and is refused to a staff user without
the model's permissions; the records the hub writes have no add, change or delete."""

import pytest
from django.urls import reverse

from bots import invitations
from bots.models import Role
from tests.bots.admin.helpers import make_bot_user, make_delivered_event, make_received_update, make_webhook_check
from tests.clients import login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MODELS = ["botuser", "invitation", "subscription", "delivery", "sentmessage", "receivedupdate", "telegramwebhookcheck"]
# The only page that adds: bot users come from the chats, records from the hub.
ADDABLE = {"invitation"}


@pytest.fixture
def rows(owner, device):
    bot_user = make_bot_user(role=Role.MANAGER, owner=owner)
    bot_user.subscriptions.create(event_kind="device.offline")
    bot_user.followed.create(device=device)
    delivery = make_delivered_event(bot_user=bot_user, device=device, is_digest=True)
    invitation, _ = invitations.invitation_create(owner=owner, role=Role.MANAGER)
    return {
        "botuser": bot_user,
        "invitation": invitation,
        "subscription": bot_user.subscriptions.get(),
        "delivery": delivery,
        "sentmessage": delivery.message,
        "receivedupdate": make_received_update(),
        "telegramwebhookcheck": make_webhook_check(),
    }


@pytest.mark.parametrize("model", MODELS)
def test_a_superuser_sees_the_list_and_each_row(admin_client, rows, model):
    changelist = admin_client.get(reverse(f"admin:bots_{model}_changelist"))
    change = admin_client.get(reverse(f"admin:bots_{model}_change", args=[rows[model].pk]))
    add = admin_client.get(reverse(f"admin:bots_{model}_add"))

    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count == 1
    assert change.status_code == 200
    assert add.status_code == (200 if model in ADDABLE else 403)


@pytest.mark.parametrize("model", MODELS)
def test_staff_without_the_permissions_gets_no_page(rows, model):
    client = login(UserFactory(is_staff=True, permissions=["devices.view_device"]))

    assert client.get(reverse(f"admin:bots_{model}_changelist")).status_code == 403
    assert client.get(reverse(f"admin:bots_{model}_change", args=[rows[model].pk])).status_code == 403
    assert client.get(reverse(f"admin:bots_{model}_add")).status_code == 403


@pytest.mark.parametrize("model", ["subscription", "delivery", "sentmessage", "receivedupdate", "telegramwebhookcheck"])
def test_records_are_read_only_even_for_a_superuser(admin_client, rows, model):
    page = admin_client.get(reverse(f"admin:bots_{model}_change", args=[rows[model].pk]))

    assert page.context["has_change_permission"] is False
    assert page.context["has_delete_permission"] is False
    assert admin_client.post(reverse(f"admin:bots_{model}_delete", args=[rows[model].pk])).status_code == 403
    assert type(rows[model]).objects.filter(pk=rows[model].pk).exists()


def test_a_message_lists_the_events_it_covered_and_links_to_all_of_them(admin_client, rows):
    message = rows["sentmessage"]

    page = admin_client.get(reverse("admin:bots_sentmessage_change", args=[message.pk]))

    [covered] = [inline for inline in page.context["inline_admin_formsets"]]
    assert [form.instance for form in covered.formset.forms] == [rows["delivery"]]
    assert f"?message__id__exact={message.pk}" in page.content.decode()
    listed = admin_client.get(reverse("admin:bots_delivery_changelist"), {"message__id__exact": message.pk})
    assert list(listed.context["cl"].result_list) == [rows["delivery"]]


def test_a_delivery_links_to_its_message(admin_client, rows):
    page = admin_client.get(reverse("admin:bots_delivery_changelist")).content.decode()

    assert reverse("admin:bots_sentmessage_change", args=[rows["sentmessage"].pk]) in page
    assert f"digest #{rows['sentmessage'].pk}" in page


def test_a_bot_user_shows_what_it_follows_and_is_subscribed_to(admin_client, rows, device):
    page = admin_client.get(reverse("admin:bots_botuser_change", args=[rows["botuser"].pk]))

    shown = {inline.opts.model._meta.model_name: inline.formset for inline in page.context["inline_admin_formsets"]}
    assert [form.instance.device_id for form in shown["followeddevice"].forms] == [device.device_id]
    assert [form.instance.event_kind for form in shown["subscription"].forms] == ["device.offline"]


def test_the_webhook_check_hides_the_secret_path_segment_and_shows_its_warnings(admin_client):
    check = make_webhook_check(pending_update_count=250)

    page = admin_client.get(reverse("admin:bots_telegramwebhookcheck_change", args=[check.pk])).content.decode()

    assert "s3cr3t-segment" not in page
    assert "https://hub.example.com/telegram-webhook/••••••••" in page
    assert "250 updates are waiting" in page
