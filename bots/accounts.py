"""Bot users as staff and the senders change them: role, owner and language set by the admin and
the API, a chat that is gone deactivated, a group that became a supergroup moved, a bot user
deleted (chats change their own through the commands: `/start`, `/forget_me`); and the state of
an invitation as both the admin and the API show it.

    bot_user_update(bot_user=user, role=Role.MANAGER, owner=acme)  # DomainError if it makes no sense
    bot_user_deactivate(bot_user=user, error="Forbidden: bot was blocked by the user")
    invitation_state(invitation)  # "open", "used", "expired" or "revoked"
"""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from bots.models import BotUser, Invitation, Role, SentMessage
from bots.models.accounts import LANGUAGES
from config.errors import Conflict, DomainError
from devices.models import Owner

_UNCHANGED = object()
LANGUAGE_CODES = tuple(code for code, _ in LANGUAGES)
ERROR_LIMIT = 500  # BotUser.last_error's length
INVITATION_STATES = ("open", "used", "expired", "revoked")


def invitation_state(invitation: Invitation, *, now: dt.datetime | None = None) -> str:
    """open (it lets a chat in), used (no uses left), expired or revoked."""
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= (now or timezone.now()):
        return "expired"
    if invitation.uses >= invitation.max_uses:
        return "used"
    return "open"


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


def bot_user_deactivate(*, bot_user: BotUser, error: str) -> None:
    """The chat is gone (the bot was blocked or removed, the chat no longer exists): nothing is
    sent there until a staff user or a new `/start` activates it again."""
    bot_user.is_active, bot_user.last_error = False, error[:ERROR_LIMIT]
    BotUser.objects.filter(pk=bot_user.pk).update(is_active=False, last_error=bot_user.last_error)


def bot_user_chat_move(*, bot_user: BotUser, new_chat_id: int | str) -> BotUser:
    """A group became a supergroup: Telegram gave it a new chat id, and the bot user follows it.
    If the supergroup already is a bot user of its own (it wrote to the bot since), this one is
    deactivated and Conflict says which one took over."""
    new_chat_id = str(new_chat_id)
    taken = BotUser.objects.filter(platform=bot_user.platform, chat_id=new_chat_id).exclude(pk=bot_user.pk).first()
    if taken is None:
        try:
            with transaction.atomic():
                BotUser.objects.filter(pk=bot_user.pk).update(
                    chat_id=new_chat_id, chat_type=BotUser.ChatType.SUPERGROUP
                )
        except IntegrityError:  # the supergroup registered in the meantime
            taken = BotUser.objects.filter(platform=bot_user.platform, chat_id=new_chat_id).first()
        else:
            bot_user.chat_id, bot_user.chat_type = new_chat_id, BotUser.ChatType.SUPERGROUP
            return bot_user
    error = f"The group moved to chat {new_chat_id}, which is bot user #{taken.pk if taken else '?'}."
    bot_user_deactivate(bot_user=bot_user, error=error)
    raise Conflict(error)


@transaction.atomic
def bot_user_delete(*, bot_user: BotUser) -> None:
    """Remove the bot user, its subscriptions and follows; the deliveries and messages that told
    it something stay (they are the record of what was sent) without its chat id."""
    SentMessage.objects.filter(bot_user=bot_user).update(chat_id="")
    bot_user.delete()
