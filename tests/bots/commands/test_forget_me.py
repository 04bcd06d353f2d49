"""/forget_me: asks first; then the chat goes with its subscriptions and follows, and the
deliveries and messages it was sent no longer name it."""

import pytest

from bots.models import BotUser, Delivery, FollowedDevice, SentMessage, Subscription
from devices.models import DeviceEvent
from tests.bots.commands.conftest import bot_user_of, press, say

pytestmark = pytest.mark.django_db


def test_forget_me_asks_to_confirm_first(manager):
    reply = say(manager, "/forget_me")

    assert reply.text.startswith("Forget this chat? Its access, subscriptions and followed devices are removed")
    assert [(b.label, b.data) for b in reply.buttons[0]] == [("Yes, forget this chat", "fm:yes"), ("Cancel", "fm:no")]
    assert BotUser.objects.filter(chat_id=manager.chat_id).exists()


def test_cancel_keeps_everything(manager):
    reply = press(manager, "fm:no")

    assert (reply.text, reply.edit) == ("Nothing was removed.", True)
    assert bot_user_of(manager).has_access


def test_confirming_removes_the_chat_and_what_names_it(manager, device):
    say(manager, f"/add_device {device.device_id}")
    bot_user = bot_user_of(manager)
    message = SentMessage.objects.create(bot_user=bot_user, chat_id=manager.chat_id, event_count=1)
    event = DeviceEvent.objects.get(device=device, kind=DeviceEvent.Kind.REGISTERED)
    delivery = Delivery.objects.create(
        bot_user=bot_user, event=event, event_kind=event.kind, device_id=device.device_id, message=message
    )

    reply = press(manager, "fm:yes")

    assert reply.edit and reply.text == "Done: this chat is forgotten. Send /start if you want to register it again."
    assert not BotUser.objects.filter(pk=bot_user.pk).exists()
    assert not Subscription.objects.filter(bot_user_id=bot_user.pk).exists()
    assert not FollowedDevice.objects.exists()
    message.refresh_from_db()
    delivery.refresh_from_db()
    assert (message.bot_user, message.chat_id, message.event_count) == (None, "", 1)
    assert (delivery.bot_user, delivery.message) == (None, message)


def test_a_forgotten_chat_starts_again_from_nothing(manager):
    press(manager, "fm:yes")

    reply = say(manager, "/devices")

    assert reply.text.startswith("This chat has no access to any devices yet.")
    assert not bot_user_of(manager).has_access


@pytest.mark.parametrize("data", ["fm:", "fm:maybe", "fm:yes:please"])
def test_a_forged_answer_forgets_nothing(manager, data):
    assert press(manager, data).notice == "This button is outdated. Send the command again."
    assert bot_user_of(manager).has_access
