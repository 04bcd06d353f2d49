"""The device registry's own signal receivers, connected in `DevicesConfig.ready`.

Every event a service writes to the outbox is handed, once its transaction commits, to the
Celery queue; the worker's `devices.tasks.dispatch_device_event` then passes each on, once, to
the integrations that act on it (`signals.device_event_dispatched`) and to the live view
(`devices.live`)."""

import logging

from django.db import transaction
from django.dispatch import receiver

from devices import signals, tasks

logger = logging.getLogger(__name__)


def _enqueue(event) -> None:
    try:
        tasks.dispatch_device_event.delay(str(event.id))
    except Exception:
        # The outbox row stays undispatched; beat's redispatch task picks it up.
        logger.exception("device event enqueue failed", extra={"event_id": str(event.id)})


@receiver(signals.device_registered, dispatch_uid="devices.receivers.registered")
@receiver(signals.device_config_changed, dispatch_uid="devices.receivers.config_changed")
@receiver(signals.device_config_applied, dispatch_uid="devices.receivers.config_applied")
@receiver(signals.device_status_changed, dispatch_uid="devices.receivers.status_changed")
def publish_after_commit(sender, event, **kwargs):
    transaction.on_commit(lambda: _enqueue(event))
