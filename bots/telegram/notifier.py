"""Telegram's side of the notifications: one notification message sent through the Bot API
(`bots.telegram.api`) within the shared limits (`bots.telegram.ratelimit`), its outcome in the
platform-neutral terms of `bots.notifications.senders`.

A 429 sets the cooldown of the chat and of the bot before the flush hears of it, so every
process that sends next waits the `retry_after` Telegram asked for.
"""

from bots.notifications.senders import RecipientGone, RecipientMoved, SendFailed, SendRateLimited
from bots.telegram import api, ratelimit

# A long text's later parts wait for their own slots in the worker: a part is due within a
# second or two (a group: a few seconds), and the parts of one message are never re-sent.
_PART_WAIT_MAX_SECONDS = 10.0


class TelegramSender:
    def slot_reserve(self, *, chat_id: str, is_group: bool) -> float:
        return ratelimit.limiter_get().slot_reserve(chat_id, is_group=is_group)

    def send(self, *, chat_id: str, is_group: bool, text: str) -> list[int]:
        """The message ids of the parts sent. The first part's slot is the caller's; a part
        after the first that cannot get one within a few seconds, or that fails, raises with the
        ids sent so far in `sent_ids` (those parts arrived: the flush records them)."""
        limiter = ratelimit.limiter_get()
        sent: list[int] = []
        for number, part in enumerate(api.split_text(text)):
            if number:
                wait = ratelimit.slot_wait(limiter, chat_id, is_group=is_group, within=_PART_WAIT_MAX_SECONDS)
                if wait:
                    raise _with_sent(SendRateLimited("no slot for the next part", retry_after=wait), sent)
            try:
                sent.append(api.send_message(chat_id, part))
            except api.RateLimited as exc:
                limiter.cooldown_set(chat_id, seconds=exc.retry_after)
                raise _with_sent(SendRateLimited(exc.detail, retry_after=exc.retry_after), sent) from exc
            except api.ChatGone as exc:
                raise _with_sent(RecipientGone(exc.detail), sent) from exc
            except api.ChatMoved as exc:
                raise _with_sent(RecipientMoved(exc.detail, new_chat_id=exc.new_chat_id), sent) from exc
            except (api.TelegramUnavailable, api.TelegramRefused) as exc:
                raise _with_sent(SendFailed(exc.detail), sent) from exc
        return sent


def _with_sent(exc: Exception, sent: list[int]) -> Exception:
    exc.sent_ids = list(sent)
    return exc
