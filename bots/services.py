"""Writes of the bots' accounts: the chats that talk to the hub, what they follow and what they
are told about. The commands (`bots.commands`), the notifier and the admin all call these.

A bot user is found by (platform, chat id). Every message from a chat touches it
(`bot_user_touch`): a chat seen for the first time becomes a bot user without access, told about
every event kind once it gets access; a chat that writes again is reachable again."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from bots.models import BotUser, Delivery, FollowedDevice, Role, SentMessage, Subscription
from bots.models.accounts import LANGUAGES
from config.errors import DomainError
from devices.models import Device, DeviceEvent, Owner

LANGUAGE_PREFIXES = (("ru", "ru"), ("uk", "uk"))  # Telegram's language_code (IETF tag) → ours
DEFAULT_LANGUAGE = "en"
LANGUAGE_CODES = tuple(code for code, _ in LANGUAGES)
_UNCHANGED = object()


def language_from_code(language_code: str) -> str:
    """Our language for a client's language tag: ru*, uk*, anything else English."""
    code = (language_code or "").strip().lower()
    for prefix, language in LANGUAGE_PREFIXES:
        if code == prefix or code.startswith(prefix + "-"):
            return language
    return DEFAULT_LANGUAGE


def bot_user_touch(
    *,
    platform: str,
    chat_id: str,
    chat_type: str,
    username: str = "",
    display_name: str = "",
    language_code: str = "",
) -> BotUser:
    """The bot user of this chat, created on its first message, its names and last seen brought
    up to date.

    The language follows a private chat's client (`language_code`) unless the admin fixed it.
    A group takes the language of the first message it sends and keeps it until the admin
    changes it: its members' clients differ, and the group's notifications should not switch
    language with whoever spoke last. A message also marks the chat reachable again (it was
    deactivated when it blocked the bot or left)."""
    chat_id = str(chat_id)
    bot_user = BotUser.objects.filter(platform=platform, chat_id=chat_id).first()
    if bot_user is None:
        bot_user = _bot_user_create(
            platform=platform,
            chat_id=chat_id,
            chat_type=chat_type,
            username=username,
            display_name=display_name,
            language=language_from_code(language_code) if language_code else DEFAULT_LANGUAGE,
        )
    changes = {
        "chat_type": chat_type,
        "username": username[:64],
        "display_name": display_name[:200],
        "last_seen_at": timezone.now(),
        "is_active": True,
    }
    if language_code and not bot_user.language_fixed and not bot_user.is_group:
        changes["language"] = language_from_code(language_code)
    # One UPDATE of these fields only: a concurrent change of role or owner is not overwritten.
    BotUser.objects.filter(pk=bot_user.pk).update(**changes)
    for field, value in changes.items():
        setattr(bot_user, field, value)
    return bot_user


def _bot_user_create(*, platform: str, chat_id: str, language: str, **fields) -> BotUser:
    """Create the bot user with every event kind subscribed; a chat whose first two messages
    arrive at once is created once (the loser of the race finds the winner's row)."""
    try:
        with transaction.atomic():
            bot_user = BotUser.objects.create(
                platform=platform,
                chat_id=chat_id,
                language=language,
                chat_type=fields["chat_type"],
                username=fields["username"][:64],
                display_name=fields["display_name"][:200],
            )
            Subscription.objects.bulk_create(
                [Subscription(bot_user=bot_user, event_kind=kind) for kind in DeviceEvent.Kind.values]
            )
    except IntegrityError:
        return BotUser.objects.get(platform=platform, chat_id=chat_id)
    return bot_user


@transaction.atomic
def bot_user_forget(*, bot_user: BotUser) -> None:
    """`/forget_me`: the bot user goes, with its subscriptions and follows; the deliveries and
    messages it was sent stay for the admin's counts, but no longer name the chat."""
    SentMessage.objects.filter(bot_user=bot_user).update(bot_user=None, chat_id="")
    Delivery.objects.filter(bot_user=bot_user).update(bot_user=None)
    BotUser.objects.filter(pk=bot_user.pk).delete()  # subscriptions and follows cascade


@transaction.atomic
def bot_user_deactivate(*, bot_user: BotUser, reason: str) -> None:
    """The chat cannot be written to (blocked the bot, kicked it, no longer exists): stop until it
    writes again (`bot_user_touch`); what was pending for it fails, with that reason. `reason` is
    Telegram's description, kept for the admin."""
    BotUser.objects.filter(pk=bot_user.pk).update(is_active=False, last_error=reason[:500])
    Delivery.objects.filter(bot_user=bot_user, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.FAILED, last_error=reason[:500]
    )
    bot_user.is_active, bot_user.last_error = False, reason[:500]


@transaction.atomic
def bot_user_move_chat(*, bot_user: BotUser, new_chat_id: str) -> BotUser:
    """The chat got a new id (Telegram: a group upgraded to a supergroup); the bot user follows it.

    If a bot user of the new id exists already (someone wrote in the supergroup before the
    notifier learned of the move), the two become one: the one with access survives — the moved
    one when both or neither have it, since it carries the chat's history — with its own
    subscriptions and follows; the other's deliveries and messages pass to it (a delivery of an
    event both were to be told about is kept once) and the other is deleted."""
    new_chat_id = str(new_chat_id)
    moved = BotUser.objects.select_for_update().get(pk=bot_user.pk)
    if moved.chat_id == new_chat_id:
        return moved
    other = BotUser.objects.select_for_update().filter(platform=moved.platform, chat_id=new_chat_id).first()
    survivor = moved
    if other is not None:
        survivor, gone = (other, moved) if other.has_access and not moved.has_access else (moved, other)
        _bot_user_merge_into(survivor=survivor, gone=gone)
    BotUser.objects.filter(pk=survivor.pk).update(chat_id=new_chat_id, chat_type=BotUser.ChatType.SUPERGROUP)
    survivor.refresh_from_db()
    return survivor


def _bot_user_merge_into(*, survivor: BotUser, gone: BotUser) -> None:
    kept_events = Delivery.objects.filter(bot_user=survivor).values("event_id")
    Delivery.objects.filter(bot_user=gone, event_id__in=kept_events).delete()
    Delivery.objects.filter(bot_user=gone).update(bot_user=survivor)
    SentMessage.objects.filter(bot_user=gone).update(bot_user=survivor)
    gone.delete()  # before the survivor takes its chat id: one bot user per chat


def device_follow(*, bot_user: BotUser, device: Device) -> bool:
    """Follow a device (the caller checked it is in the bot user's scope); whether it is new."""
    _, created = FollowedDevice.objects.get_or_create(bot_user=bot_user, device=device)
    return created


def device_unfollow(*, bot_user: BotUser, device_id: str) -> bool:
    """Stop following a device; whether it was followed."""
    deleted, _ = FollowedDevice.objects.filter(bot_user=bot_user, device_id=device_id).delete()
    return bool(deleted)


def subscription_toggle(*, bot_user: BotUser, event_kind: str) -> bool:
    """Turn an event kind on or off for the bot user; whether it is on now."""
    if event_kind not in DeviceEvent.Kind.values:
        raise ValueError(f"Unknown event kind {event_kind!r}.")
    deleted, _ = Subscription.objects.filter(bot_user=bot_user, event_kind=event_kind).delete()
    if deleted:
        return False
    Subscription.objects.get_or_create(bot_user=bot_user, event_kind=event_kind)
    return True


# ------------------------------------------------------------------ staff (admin and API)


def bot_user_validate(*, role: str, owner: Owner | None, sees_all_owners: bool, language: str) -> None:
    """The rules an edited bot user must keep; DomainError naming the field that breaks one."""
    if role not in Role.values:
        raise DomainError(f"Role must be one of: {', '.join(Role.values)}.", field="role")
    if language not in LANGUAGE_CODES:
        raise DomainError(f"Language must be one of: {', '.join(LANGUAGE_CODES)}.", field="language")
    if role != Role.NONE and owner is None and not sees_all_owners:
        raise DomainError(
            "A manager or administrator needs an owner whose devices they see (or “sees all owners”).",
            field="owner",
        )


def bot_user_update(
    *,
    bot_user: BotUser,
    role=_UNCHANGED,
    owner=_UNCHANGED,
    sees_all_owners=_UNCHANGED,
    language=_UNCHANGED,
    language_fixed=_UNCHANGED,
    is_active=_UNCHANGED,
) -> BotUser:
    """Change what a staff user may change; the fields not given stay as they are. Reactivating
    a bot user clears its last error (the chat is expected to work again)."""
    changes = {
        name: value
        for name, value in {
            "role": role,
            "owner": owner,
            "sees_all_owners": sees_all_owners,
            "language": language,
            "language_fixed": language_fixed,
            "is_active": is_active,
        }.items()
        if value is not _UNCHANGED
    }
    bot_user_validate(
        role=changes.get("role", bot_user.role),
        owner=changes["owner"] if "owner" in changes else bot_user.owner,
        sees_all_owners=changes.get("sees_all_owners", bot_user.sees_all_owners),
        language=changes.get("language", bot_user.language),
    )
    if changes.get("is_active") and not bot_user.is_active:
        changes["last_error"] = ""
    for name, value in changes.items():
        setattr(bot_user, name, value)
    if changes:
        bot_user.save(update_fields=list(changes))
    return bot_user
