"""Invitations: a staff user gives a chat access to an owner's devices with a role.

    invitation, token = invitation_create(owner=owner, role=Role.MANAGER, created_by=request.user)
    invitation_link(token)  # https://t.me/<bot>?start=<token>, shown once with its QR code

The token is random and only its HMAC digest is stored (like every machine credential here), so
the link can be shown only when the invitation is made. Redeeming is one conditional UPDATE:
two chats redeeming the last use at once cannot both get in.
"""

import datetime as dt
import secrets

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from bots.models import BotUser, Invitation, Role
from config.credentials import credential_digest
from config.errors import DomainError
from devices.models import Owner
from integrations.secrets.settings_store import setting_get

INVITATION_STATES = ("open", "used", "expired", "revoked")
DEFAULT_LIFETIME = dt.timedelta(days=7)
MAX_LIFETIME = dt.timedelta(days=90)
# Telegram's start parameter: up to 64 characters of A-Z, a-z, 0-9, _ and -.
TOKEN_BYTES = 24  # 32 characters


class InvitationInvalid(DomainError):
    """A token that opens nothing; `reason` is one of unknown, expired, used, revoked."""

    def __init__(self, reason: str):
        super().__init__(f"This invitation is {reason}." if reason != "unknown" else "This invitation is not valid.")
        self.reason = reason


def invitation_create(
    *,
    owner: Owner,
    role: str,
    created_by=None,
    lifetime: dt.timedelta = DEFAULT_LIFETIME,
    max_uses: int = 1,
    note: str = "",
) -> tuple[Invitation, str]:
    """A new invitation and its raw token (returned once, never stored)."""
    if role not in (Role.MANAGER, Role.ADMINISTRATOR):
        raise DomainError("Role must be manager or administrator.", field="role")
    if not dt.timedelta(minutes=1) <= lifetime <= MAX_LIFETIME:
        raise DomainError("An invitation lasts between a minute and 90 days.", field="expires_in")
    if not 1 <= max_uses <= 1000:
        raise DomainError("An invitation may be used between 1 and 1,000 times.", field="max_uses")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invitation = Invitation.objects.create(
        owner=owner,
        role=role,
        token_digest=credential_digest(token),
        token_prefix=token[:6],
        max_uses=max_uses,
        expires_at=timezone.now() + lifetime,
        note=note,
        created_by=created_by if getattr(created_by, "pk", None) else None,
    )
    return invitation, token


def invitation_state(invitation: Invitation, *, now: dt.datetime | None = None) -> str:
    """open (it lets a chat in), used (no uses left), expired or revoked."""
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= (now or timezone.now()):
        return "expired"
    if invitation.uses >= invitation.max_uses:
        return "used"
    return "open"


def invitation_link(token: str) -> str:
    """The deep link that opens the bot with `/start <token>` (TELEGRAM_BOT_USERNAME names the bot)."""
    username = (setting_get("TELEGRAM_BOT_USERNAME", None) or "").lstrip("@")
    if not username:
        raise DomainError("Set TELEGRAM_BOT_USERNAME (the bot's @username) to make invitation links.")
    return f"https://t.me/{username}?start={token}"


def invitation_revoke(*, invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


@transaction.atomic
def invitation_redeem(*, bot_user: BotUser, token: str) -> Invitation:
    """Bind the chat to the invitation's owner and role, using one of its uses; or InvitationInvalid."""
    if not token or len(token) > 64:
        raise InvitationInvalid("unknown")
    invitation = Invitation.objects.filter(token_digest=credential_digest(token)).first()
    if invitation is None:
        raise InvitationInvalid("unknown")
    now = timezone.now()
    if invitation.revoked_at is not None:
        raise InvitationInvalid("revoked")
    if invitation.expires_at <= now:
        raise InvitationInvalid("expired")
    if bot_user.owner_id == invitation.owner_id and bot_user.role == invitation.role:
        return invitation  # the same link opened again by a chat it already let in: no use spent
    used = Invitation.objects.filter(pk=invitation.pk, uses__lt=F("max_uses"), revoked_at__isnull=True).update(
        uses=F("uses") + 1
    )
    if not used:
        raise InvitationInvalid("used")
    BotUser.objects.filter(pk=bot_user.pk).update(owner=invitation.owner, role=invitation.role, is_active=True)
    bot_user.owner, bot_user.role, bot_user.is_active = invitation.owner, invitation.role, True
    invitation.refresh_from_db(fields=["uses"])
    return invitation
