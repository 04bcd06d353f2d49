"""Fleet notifications: a delivery row per (bot user, event) written where the event is handed
on, and the flush that tells one bot user everything pending — one message per event when a few
are waiting, one digest when many are — within the platform's limits.

Exactly once per (chat, event): the unique (bot user, event) makes a second hand-off a no-op;
the flush locks pending rows (skip locked), links them to the message it writes and commits
*before* sending, and marks both sent after. A retried or duplicated flush finds nothing
pending. The only window for a duplicate is a worker killed between the platform's answer and
that last commit: the recovery (`deliveries_recover`) cannot tell whether the message arrived,
and sends it again — at most one message per chat per worker lost.

Nothing sleeps in a worker: when the limiter, a 429 or a backoff says "later", the flush
schedules itself again with that countdown and returns.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation

from bots import services
from bots.models import BotUser, Delivery, SentMessage, Subscription
from bots.notifications import flags, recipients, senders, texts
from devices.models import DeviceEvent
from integrations.secrets.settings_store import setting_get

logger = logging.getLogger(__name__)

# The most events one digest covers (a bigger backlog takes several digests).
DIGEST_MAX_EVENTS = 10_000
RETRY_MAX_SECONDS = 300


# ------------------------------------------------------------------ creating deliveries


def deliveries_create(*, event: DeviceEvent) -> list[int]:
    """The event's deliveries, one per recipient, in the transaction that hands it on; a flush
    of each recipient is scheduled once that commits. Returns the recipients' ids."""
    chat_id_setting_users_ensure()
    bot_user_ids = list(recipients.event_recipients(event=event).values_list("pk", flat=True))
    if not bot_user_ids:
        return []
    device_id = str(event.payload.get("device_id") or event.device_id or "")[:16]
    Delivery.objects.bulk_create(
        [Delivery(bot_user_id=pk, event=event, event_kind=event.kind, device_id=device_id) for pk in bot_user_ids],
        ignore_conflicts=True,
    )
    transaction.on_commit(lambda: flushes_schedule(bot_user_ids=bot_user_ids))
    return bot_user_ids


def flushes_schedule(*, bot_user_ids: list[int], countdown: float | None = None) -> int:
    """Schedule a flush of each bot user that has none scheduled yet; how many were."""
    from bots.notifications.tasks import bot_user_flush_task

    due_in = settings.NOTIFICATIONS_GATHER_SECONDS if countdown is None else countdown
    store = flags.flags_get()
    scheduled = 0
    for pk in store.claim(bot_user_ids, due_in=due_in):
        try:
            bot_user_flush_task.apply_async(args=[pk], countdown=due_in)
            scheduled += 1
        except Exception as exc:  # the broker: the rows wait, the recovery schedules them
            store.release(pk)
            logger.warning("flush not scheduled: %s", exc.__class__.__name__, extra={"bot_user_id": pk})
    return scheduled


def _flush_later(bot_user_id: int, seconds: float) -> None:
    from bots.notifications.tasks import bot_user_flush_task

    if settings.CELERY_TASK_ALWAYS_EAGER:
        # Embedded mode runs a task at once, countdown or not: the next event's flush goes on.
        return
    flags.flags_get().hold(bot_user_id, due_in=seconds)
    bot_user_flush_task.apply_async(args=[bot_user_id], countdown=max(0.0, seconds))


# The TELEGRAM_CHAT_ID value whose chats this process has made sure of.
_chat_id_setting_ensured: str | None = None


def chat_id_setting_users_ensure() -> None:
    """The chats of the TELEGRAM_CHAT_ID setting (the original server's: comma-separated ids)
    are bot users that see every owner, created with every subscription. Checked against the
    database once per process and setting value; an existing bot user keeps its subscriptions
    and active state (a chat that blocked the bot stays deactivated)."""
    global _chat_id_setting_ensured
    value = setting_get("TELEGRAM_CHAT_ID", None) or ""
    if value == _chat_id_setting_ensured:
        return
    chat_ids = []
    for part in str(value).split(","):
        try:
            chat_ids.append(str(int(part.strip())))
        except ValueError:
            if part.strip():
                logger.warning("TELEGRAM_CHAT_ID holds something that is no chat id; skipped")
    if chat_ids:
        _chat_id_users_ensure(chat_ids)
    _chat_id_setting_ensured = value


@transaction.atomic
def _chat_id_users_ensure(chat_ids: list[str]) -> None:
    telegram = BotUser.Platform.TELEGRAM
    known = set(BotUser.objects.filter(platform=telegram, chat_id__in=chat_ids).values_list("chat_id", flat=True))
    BotUser.objects.filter(platform=telegram, chat_id__in=known, sees_all_owners=False).update(sees_all_owners=True)
    new = [chat_id for chat_id in chat_ids if chat_id not in known]
    if not new:
        return
    BotUser.objects.bulk_create(
        [
            BotUser(
                platform=telegram,
                chat_id=chat_id,
                chat_type=BotUser.ChatType.GROUP if chat_id.startswith("-") else BotUser.ChatType.PRIVATE,
                display_name="TELEGRAM_CHAT_ID",
                sees_all_owners=True,
            )
            for chat_id in new
        ],
        ignore_conflicts=True,  # another worker made them at the same moment
    )
    created = BotUser.objects.filter(platform=telegram, chat_id__in=new).values_list("pk", flat=True)
    Subscription.objects.bulk_create(
        [Subscription(bot_user_id=pk, event_kind=kind) for pk in created for kind in DeviceEvent.Kind.values],
        ignore_conflicts=True,
    )


# ------------------------------------------------------------------ the flush


DIGEST_STORM_WINDOW = dt.timedelta(minutes=5)


@dataclass
class _Prepared:
    message: SentMessage
    text: str
    delivery_ids: list[int]


def bot_user_flush(*, bot_user_id: int) -> int:
    """Tell one bot user what is pending; the number of messages sent. Re-schedules itself when
    it has to wait (limits, 429, backoff) or when more is pending after a digest."""
    store = flags.flags_get()
    quiet_for = store.quiet_remaining(bot_user_id)
    if quiet_for > 0:
        # Scheduled by events while the chat is quiet after a digest: the flush that digest
        # scheduled sends what gathered; until then events need not schedule another.
        store.hold(bot_user_id, due_in=quiet_for)
        return 0
    store.release(bot_user_id)  # events from now on schedule the next flush
    sent = 0
    while True:
        bot_user = BotUser.objects.filter(pk=bot_user_id).first()
        if bot_user is None:
            return sent
        pending = Delivery.objects.filter(bot_user=bot_user, status=Delivery.Status.PENDING)
        if not bot_user.is_active:
            pending.update(status=Delivery.Status.FAILED, last_error="The bot user is not active.")
            return sent
        if not pending.exists():
            return sent
        sender = senders.sender_for(bot_user.platform)
        wait = sender.slot_reserve(chat_id=bot_user.chat_id, is_group=bot_user.is_group)
        if wait > 0:
            _flush_later(bot_user_id, wait)
            return sent
        prepared = _message_prepare(bot_user)
        if prepared is None:
            return sent  # a concurrent flush took them
        again = _message_send(bot_user, prepared, sender)
        if again is None:
            sent += 1
            if prepared.message.is_digest:
                # A storm goes on: let the next events gather into the next digest.
                interval = _digest_interval(bot_user)
                store.quiet(bot_user_id, seconds=interval)
                _flush_later(bot_user_id, interval)
                return sent
            continue
        if again > 0:
            _flush_later(bot_user_id, again)
            return sent
        # 0: send again at once (the chat moved), or stop (it is gone: nothing is pending).


def _digest_interval(bot_user: BotUser) -> float:
    """The wait after a digest: the base interval, doubled for every other digest this chat got in
    the last five minutes, at most the maximum — a storm of minutes reaches a chat as a handful
    of digests (10 s, 20 s, 40 s, then one a minute), and a chat quiet for five minutes starts over."""
    recent = SentMessage.objects.filter(
        bot_user=bot_user, is_digest=True, created_at__gte=timezone.now() - DIGEST_STORM_WINDOW
    ).count()
    interval = settings.NOTIFICATIONS_DIGEST_INTERVAL_SECONDS * 2 ** min(max(0, recent - 1), 10)
    return min(interval, settings.NOTIFICATIONS_DIGEST_MAX_INTERVAL_SECONDS)


@transaction.atomic
def _message_prepare(bot_user: BotUser) -> _Prepared | None:
    """Lock the pending deliveries, write the message that covers them and link them to it;
    committed before anything is sent."""
    rows = list(
        Delivery.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(bot_user=bot_user, status=Delivery.Status.PENDING)
        .select_related("event")
        .order_by("created_at", "id")[:DIGEST_MAX_EVENTS]
    )
    if not rows:
        return None
    is_digest = len(rows) > settings.NOTIFICATIONS_SINGLE_MAX
    if not is_digest:
        rows = rows[:1]
    notes = [
        texts.EventNote(
            kind=row.event_kind, device_id=row.device_id, payload=row.event.payload, created_at=row.event.created_at
        )
        for row in rows
    ]
    with translation.override(bot_user.language):
        if is_digest:
            text = texts.digest_text(notes, now=timezone.now(), ids_per_kind=settings.NOTIFICATIONS_DIGEST_IDS_PER_KIND)
        else:
            text = texts.event_text(notes[0])
    message = SentMessage.objects.create(
        bot_user=bot_user, chat_id=bot_user.chat_id, is_digest=is_digest, attempts=1, event_count=len(rows)
    )
    ids = [row.pk for row in rows]
    Delivery.objects.filter(pk__in=ids).update(
        status=Delivery.Status.SENDING, message=message, attempts=F("attempts") + 1
    )
    return _Prepared(message=message, text=text, delivery_ids=ids)


def _message_send(bot_user: BotUser, prepared: _Prepared, sender: senders.Sender) -> float | None:
    """Send the prepared message and record the outcome. None: sent; else the seconds after
    which the flush goes on (0: at once)."""
    message = prepared.message
    try:
        ids = sender.send(chat_id=bot_user.chat_id, is_group=bot_user.is_group, text=prepared.text)
    except senders.SendRateLimited as exc:
        # Nothing was sent: it does not count as an attempt. The sender made everyone wait.
        _message_returned(prepared, error=exc.detail, sent_ids=getattr(exc, "sent_ids", []), counts=False)
        logger.info("notification rate limited", extra={"bot_user_id": bot_user.pk, "retry_after": exc.retry_after})
        return exc.retry_after
    except senders.RecipientGone as exc:
        with transaction.atomic():
            _message_close(message, status=SentMessage.Status.FAILED, error=exc.detail)
            Delivery.objects.filter(pk__in=prepared.delivery_ids).update(
                status=Delivery.Status.FAILED, last_error=exc.detail
            )
            services.bot_user_deactivate(bot_user=bot_user, reason=exc.detail)
        return 0
    except senders.RecipientMoved as exc:
        with transaction.atomic():
            _message_returned(
                prepared, error=f"Chat moved to {exc.new_chat_id}; sent there.", sent_ids=[], counts=False
            )
            survivor = services.bot_user_move_chat(bot_user=bot_user, new_chat_id=str(exc.new_chat_id))
        if survivor.pk != bot_user.pk:  # merged into the supergroup's own bot user: it sends now
            transaction.on_commit(lambda: flushes_schedule(bot_user_ids=[survivor.pk], countdown=0))
        return 0
    except senders.SendFailed as exc:
        attempts = _message_returned(prepared, error=exc.detail, sent_ids=getattr(exc, "sent_ids", []), counts=True)
        logger.warning("notification not sent", extra={"bot_user_id": bot_user.pk, "attempts": attempts})
        if attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
            return 0  # those deliveries failed; the others go on
        return min(RETRY_MAX_SECONDS, settings.NOTIFICATIONS_RETRY_BASE_SECONDS * 2 ** (attempts - 1))
    now = timezone.now()
    with transaction.atomic():
        _message_close(message, status=SentMessage.Status.SENT, message_ids=ids, sent_at=now)
        Delivery.objects.filter(pk__in=prepared.delivery_ids).update(status=Delivery.Status.SENT, sent_at=now)
    return None


def _message_close(message: SentMessage, *, status: str, error: str = "", message_ids=None, sent_at=None) -> None:
    message.status, message.last_error, message.sent_at = status, error[:500], sent_at
    if message_ids is not None:
        message.message_ids = message_ids
    message.save(update_fields=["status", "last_error", "message_ids", "sent_at"])


@transaction.atomic
def _message_returned(prepared: _Prepared, *, error: str, sent_ids: list[int], counts: bool) -> int:
    """The message failed; its deliveries are pending again (failed, past the most attempts).
    Returns the most attempts among them."""
    _message_close(prepared.message, status=SentMessage.Status.FAILED, error=error, message_ids=sent_ids)
    deliveries = Delivery.objects.filter(pk__in=prepared.delivery_ids)
    if not counts:
        deliveries.update(status=Delivery.Status.PENDING, message=None, attempts=F("attempts") - 1)
        return 0
    deliveries.update(status=Delivery.Status.PENDING, message=None, last_error=error[:500])
    deliveries.filter(attempts__gte=settings.NOTIFICATIONS_MAX_ATTEMPTS).update(status=Delivery.Status.FAILED)
    return max(deliveries.values_list("attempts", flat=True), default=0)


# ------------------------------------------------------------------ recovery


@dataclass(frozen=True)
class Recovered:
    messages_resent: int
    flushes_scheduled: int


def deliveries_recover() -> Recovered:
    """Beat: messages left "sending" by a worker that died mid-send are sent again (their
    deliveries pending again), and bot users with deliveries pending for long and no flush
    scheduled get one."""
    now = timezone.now()
    stuck_before = now - dt.timedelta(seconds=settings.NOTIFICATIONS_RECOVER_SENDING_AFTER_SECONDS)
    pending_before = now - dt.timedelta(seconds=settings.NOTIFICATIONS_RECOVER_PENDING_AFTER_SECONDS)
    with transaction.atomic():
        stuck = dict(
            SentMessage.objects.select_for_update(skip_locked=True)
            .filter(status=SentMessage.Status.SENDING, created_at__lt=stuck_before)
            .values_list("pk", "bot_user_id")[:1000]
        )
        Delivery.objects.filter(message_id__in=stuck, status=Delivery.Status.SENDING).update(
            status=Delivery.Status.PENDING, message=None
        )
        SentMessage.objects.filter(pk__in=stuck).update(
            status=SentMessage.Status.FAILED, last_error="Worker lost mid-send; resent."
        )
    if stuck:
        logger.warning("notifications left mid-send by a lost worker resent", extra={"messages": len(stuck)})
    bot_user_ids = {pk for pk in stuck.values() if pk is not None}
    bot_user_ids |= set(
        Delivery.objects.filter(status=Delivery.Status.PENDING, bot_user__isnull=False, created_at__lt=pending_before)
        .values_list("bot_user_id", flat=True)
        .distinct()
    )
    scheduled = flushes_schedule(bot_user_ids=sorted(bot_user_ids), countdown=0) if bot_user_ids else 0
    return Recovered(messages_resent=len(stuck), flushes_scheduled=scheduled)
