"""Receiving a Telegram update — the hot path behind `POST /telegram-webhook`: check the
secret, check the body, put the update in the inbox and answer. Nothing else happens here.

Telegram sends `X-Telegram-Bot-Api-Secret-Token` (the secret given to setWebhook) with every
call and redelivers an update until it gets a 2xx. So: the secret is compared in constant time
(missing → 401, wrong → 403, nothing recorded); a body that is no update → 400, which Telegram
does not redeliver usefully either, so it is only logged; an accepted update is appended to a
Redis stream in one round trip that also says whether its id was seen in the last two days
(the webhook inbox's Lua script, `integrations.webhooks.inbox.RedisInbox`), and a Celery task
drains the stream (`bots.telegram.updates`). Without Redis (the embedded defaults) the update
goes to the task directly, which runs in-process there.
"""

import dataclasses
import hmac
import json
import logging

from django.conf import settings
from rest_framework import status

from bots.telegram import tasks
from bots.telegram.inbox import inbox_get
from config.errors import DomainError
from integrations.secrets.settings_store import setting_get

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
UPDATE_ID_MAX = 2**63 - 1


class UpdateRefused(DomainError):
    pass


class SecretMissing(UpdateRefused):
    status_code = status.HTTP_401_UNAUTHORIZED


class SecretWrong(UpdateRefused):
    status_code = status.HTTP_403_FORBIDDEN


class PathUnknown(UpdateRefused):
    status_code = status.HTTP_404_NOT_FOUND


class NotConfigured(UpdateRefused):
    """No webhook secret is set: an unauthenticated webhook would let anyone play Telegram."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE


class InboxFull(UpdateRefused):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    retry_after_seconds = 60


class BodyInvalid(UpdateRefused):
    pass


class BodyTooLarge(UpdateRefused):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


@dataclasses.dataclass(frozen=True)
class Received:
    update_id: int
    duplicate: bool


def path_check(segment: str | None) -> None:
    """With TELEGRAM_WEBHOOK_PATH set, only /telegram-webhook/<that segment> is the webhook."""
    expected = setting_get("TELEGRAM_WEBHOOK_PATH", None)
    if not expected and segment is None:
        return
    if not expected or segment is None or not hmac.compare_digest(segment.encode(), expected.encode()):
        raise PathUnknown("Not found.")


def secret_check(given: str | None) -> None:
    expected = setting_get("TELEGRAM_WEBHOOK_SECRET", None)
    if not expected:
        raise NotConfigured("The Telegram webhook secret (TELEGRAM_WEBHOOK_SECRET) is not set.")
    if not given:
        raise SecretMissing(f"The {SECRET_HEADER} header is missing.")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise SecretWrong(f"The {SECRET_HEADER} header is wrong.")


def update_parse(body: bytes) -> dict:
    """The update as a dict, or BodyInvalid: a JSON object with an integer `update_id`."""
    try:
        update = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested thousands deep
        raise BodyInvalid("The body is not valid JSON.") from None
    return update_parse_dict(update)


def update_parse_dict(update: object) -> dict:
    """`update_parse` of an already decoded value (what getUpdates returns)."""
    if not isinstance(update, dict):
        raise BodyInvalid("An update is a JSON object.")
    update_id = update.get("update_id")
    if isinstance(update_id, bool) or not isinstance(update_id, int) or not 0 <= update_id <= UPDATE_ID_MAX:
        raise BodyInvalid("update_id must be a non-negative 64-bit integer.", field="update_id")
    return update


def update_receive(*, segment: str | None, secret: str | None, body: bytes, too_large: bool) -> Received:
    """Check and record one webhook call; UpdateRefused says why it was not recorded."""
    path_check(segment)
    secret_check(secret)
    if too_large:
        raise BodyTooLarge(f"An update is at most {settings.BOTS_TELEGRAM_BODY_MAX_BYTES} bytes.")
    update = update_parse(body)
    return update_enqueue(update)


def update_enqueue(update: dict) -> Received:
    """Hand a checked update to the workers (the webhook and polling both come here)."""
    update_id = update["update_id"]
    box = inbox_get()
    if box is None:
        tasks.handle_telegram_update.delay(update)
        return Received(update_id=update_id, duplicate=False)
    pushed = box.push(
        {"update": update},
        seen_key=f"update:{update_id}",
        seen_seconds=settings.BOTS_TELEGRAM_UPDATE_DEDUP_SECONDS,
    )
    if not pushed.recorded:
        raise InboxFull("Too many updates wait to be handled; retry later.")
    if pushed.drain_needed:
        try:
            tasks.drain_telegram_updates.delay()
        except Exception:
            # Recorded all the same: beat's periodic drain picks it up.
            logger.exception("telegram drain could not be scheduled")
    return Received(update_id=update_id, duplicate=pushed.duplicate)
