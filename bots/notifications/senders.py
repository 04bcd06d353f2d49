"""What the notification flush needs of a chat platform, and the outcomes it acts on.

The flush (`bots.notifications.services`) is platform-neutral; each platform's adapter
(`bots.telegram.notifier`, later eXpress) registers a `Sender` in `BotsConfig.ready`, so the
notifications never import a platform — the platform packages sit above them.
"""

from typing import Protocol


class SendRateLimited(Exception):
    """The platform said "too many requests": nothing was sent; try again after `retry_after`."""

    def __init__(self, detail: str, *, retry_after: float):
        super().__init__(detail)
        self.detail = detail[:500]
        self.retry_after = retry_after


class RecipientGone(Exception):
    """The chat blocked the bot, left it or does not exist: stop writing there."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail[:500]


class RecipientMoved(Exception):
    """The chat has a new id (a Telegram group upgraded to a supergroup): send there."""

    def __init__(self, detail: str, *, new_chat_id: int):
        super().__init__(detail)
        self.detail = detail[:500]
        self.new_chat_id = new_chat_id


class SendFailed(Exception):
    """No answer, a server error, or a refusal: try again later, a limited number of times."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail[:500]


class Sender(Protocol):
    def slot_reserve(self, *, chat_id: str, is_group: bool) -> float:
        """0: a message to this chat may go now (its slot is taken); else seconds to wait."""

    def send(self, *, chat_id: str, is_group: bool, text: str) -> list[int]:
        """Send one notification (in parts when too long); the platform's message ids. Raises
        one of the outcomes above."""


_senders: dict[str, Sender] = {}


def sender_register(platform: str, sender: Sender) -> None:
    _senders[platform] = sender


def sender_for(platform: str) -> Sender:
    try:
        return _senders[platform]
    except KeyError:
        raise LookupError(f"No notification sender for platform {platform!r}.") from None
