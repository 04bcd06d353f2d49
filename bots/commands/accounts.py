"""The account commands: `/start` (with an invitation token, or alone), `/chatid`, `/forget_me`."""

from django.utils.translation import gettext

from bots import services
from bots.commands.access import Context, Malformed, how_to_get_access
from bots.commands.replies import Button, Reply
from bots.invitations import InvitationInvalid, invitation_redeem
from bots.models import Role

FORGET_CONFIRM = "fm:yes"
FORGET_CANCEL = "fm:no"


def role_label(role: str) -> str:
    if role == Role.ADMINISTRATOR:
        return gettext("administrator (notifications, reads and config changes)")
    return gettext("manager (notifications and reads)")


def _access_summary(ctx: Context) -> str:
    bot_user = ctx.bot_user
    if bot_user.sees_all_owners:
        return gettext("This chat is told about the devices of every owner.")
    return gettext("This chat has access to the devices of %(owner)s as %(role)s.") % {
        "owner": bot_user.owner.name,
        "role": role_label(bot_user.role),
    }


def start(ctx: Context, args: str) -> Reply:
    """`/start <token>` redeems an invitation; `/start` alone greets and says how to get access."""
    token = args.split()[0] if args.split() else ""
    if token:
        return _start_with_invitation(ctx, token)
    if ctx.bot_user.has_access:
        return Reply(_access_summary(ctx) + "\n" + gettext("Send /help to see the commands."))
    return Reply(
        gettext("Hello! I tell the people who run a device fleet what happens to it.") + "\n\n" + how_to_get_access()
    )


INVITATION_PROBLEMS = {
    "expired": lambda: gettext("This invitation has expired. Ask for a new one."),
    "used": lambda: gettext("This invitation has been used up. Ask for a new one."),
    "revoked": lambda: gettext("This invitation was withdrawn. Ask for a new one."),
    "unknown": lambda: gettext(
        "This invitation is not valid. Check that the link was copied whole, or ask for a new one."
    ),
}


def _start_with_invitation(ctx: Context, token: str) -> Reply:
    try:
        invitation_redeem(bot_user=ctx.bot_user, token=token)
    except InvitationInvalid as exc:
        return Reply(INVITATION_PROBLEMS.get(exc.reason, INVITATION_PROBLEMS["unknown"])())
    return Reply(
        gettext("Welcome!")
        + " "
        + _access_summary(ctx)
        + "\n"
        + gettext("You will be told when devices register, go offline or come back, and when configs change.")
        + "\n"
        + gettext("Send /help to see the commands, /notify to choose what you are told about.")
    )


def chatid(ctx: Context, args: str) -> Reply:
    return Reply(gettext("This chat's id is %(chat_id)s.") % {"chat_id": ctx.incoming.chat_id})


def forget_me(ctx: Context, args: str) -> Reply:
    return Reply(
        gettext(
            "Forget this chat? Its access, subscriptions and followed devices are removed, and the "
            "messages it was sent no longer name it. To use the bot again you will need a new invitation."
        ),
        buttons=[[Button(gettext("Yes, forget this chat"), FORGET_CONFIRM), Button(gettext("Cancel"), FORGET_CANCEL)]],
    )


def forget_me_pressed(ctx: Context, fields: list[str]) -> Reply:
    if fields == ["no"]:
        return Reply(gettext("Nothing was removed."), edit=True)
    if fields != ["yes"]:
        raise Malformed
    services.bot_user_forget(bot_user=ctx.bot_user)
    return Reply(
        gettext("Done: this chat is forgotten. Send /start if you want to register it again."),
        edit=True,
        notice=gettext("Forgotten."),
    )
