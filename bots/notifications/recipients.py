"""Who is told about a device event: one query over bot users, subscriptions and follows."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from bots.models import BotUser, FollowedDevice, Role, Subscription
from devices.models import DeviceEvent


def event_recipients(*, event: DeviceEvent) -> QuerySet[BotUser]:
    """Active bot users in the event's scope: the owner's (with a role) or those that see every
    owner; subscribed to its kind; and, for a bot user that follows devices, only when it
    follows this one. The owner and device come from the payload (the device as it was), so an
    event of a device deleted since still reaches its owner's chats."""
    owner_slug = event.payload.get("owner")
    device_id = event.payload.get("device_id") or event.device_id
    follows_any = FollowedDevice.objects.filter(bot_user=OuterRef("pk"))
    in_scope = Q(sees_all_owners=True)
    if owner_slug:
        in_scope |= Q(owner__slug=owner_slug) & ~Q(role=Role.NONE)
    return (
        BotUser.objects.filter(in_scope, is_active=True)
        .filter(Exists(Subscription.objects.filter(bot_user=OuterRef("pk"), event_kind=event.kind)))
        .filter(~Exists(follows_any) | Exists(follows_any.filter(device_id=device_id)))
    )
