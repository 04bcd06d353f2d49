"""The notification tasks; they call `bots.notifications.services` and nothing else."""

import logging

from celery import shared_task

from bots.notifications import services

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def bot_user_flush_task(bot_user_id: int) -> int:
    """Tell one bot user what is pending. Late ack: a worker lost mid-flush leaves the task to
    be redelivered, and the rows it took to the recovery; a second run finds nothing pending."""
    return services.bot_user_flush(bot_user_id=bot_user_id)


@shared_task(ignore_result=True)
def deliveries_recover_task() -> int:
    """Beat: resend what a lost worker left mid-send, flush what waits with no flush scheduled."""
    recovered = services.deliveries_recover()
    if recovered.messages_resent or recovered.flushes_scheduled:
        logger.info(
            "notifications recovered",
            extra={"messages_resent": recovered.messages_resent, "flushes_scheduled": recovered.flushes_scheduled},
        )
    return recovered.flushes_scheduled
