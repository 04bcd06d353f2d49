"""Reads of the bots' accounts: which devices a bot user may see, which it follows, what it is
told about. Access is the owner (or every owner, for `sees_all_owners`) and nothing else:
following a device narrows what a chat is told, never what it may see."""

from django.db.models import QuerySet

from bots.models import BotUser, FollowedDevice, Subscription
from devices.models import Device


def bot_user_devices(*, bot_user: BotUser) -> QuerySet[Device]:
    """The devices this bot user may see, with what their listing shows, in a stable order
    (pages of `/devices` must not shift)."""
    devices = Device.objects.select_related("owner", "measurement_type", "config").order_by("device_id")
    if bot_user.sees_all_owners:
        return devices
    if not bot_user.has_access:
        return devices.none()
    return devices.filter(owner_id=bot_user.owner_id)


def bot_user_device(*, bot_user: BotUser, device_id: str) -> Device | None:
    """One device of the bot user's scope; None for a device that does not exist and for one
    of another owner alike, so that a chat never learns which ids exist."""
    return bot_user_devices(bot_user=bot_user).filter(device_id=device_id).first()


def bot_user_followed_device_ids(*, bot_user: BotUser) -> set[str]:
    """The devices it follows that are still in its scope (a follow outlives a change of owner
    by a new invitation, but tells nothing about another owner's device)."""
    scope = bot_user_devices(bot_user=bot_user).values("device_id")
    return set(
        FollowedDevice.objects.filter(bot_user=bot_user, device_id__in=scope).values_list("device_id", flat=True)
    )


def bot_user_follows(*, bot_user: BotUser, device_id: str) -> bool:
    """Whether it follows this device, in its scope or not (a stale follow can still be removed)."""
    return FollowedDevice.objects.filter(bot_user=bot_user, device_id=device_id).exists()


def bot_user_event_kinds(*, bot_user: BotUser) -> set[str]:
    """The event kinds it is told about (`/notify`)."""
    return set(Subscription.objects.filter(bot_user=bot_user).values_list("event_kind", flat=True))


def bot_user_of_chat(*, platform: str, chat_id: str) -> BotUser | None:
    return BotUser.objects.filter(platform=platform, chat_id=chat_id).first()
