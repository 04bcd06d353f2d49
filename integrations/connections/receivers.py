"""Events → connections: the receivers of the device-event and webhook signals, connected when
this module is imported (`IntegrationsConfig.ready`). Both run inside the worker's transaction
that hands the event on, so the runs they create commit with it."""

from django.dispatch import receiver

from devices.signals import device_event_dispatched
from integrations.connections.services import connections_run_for_event
from integrations.models import Connection
from integrations.webhooks.signals import webhook_received


@receiver(device_event_dispatched, dispatch_uid="integrations.connections.device_event")
def _on_device_event(sender, event, **kwargs):
    context = {**event.payload, "event": event.kind, "at": event.created_at.isoformat()}
    connections_run_for_event(
        event=event.kind,
        context=context,
        event_key=f"device-event:{event.id}",
        owner_slug=event.payload.get("owner"),
        measurement_type_slug=event.payload.get("measurement_type"),
    )


@receiver(webhook_received, dispatch_uid="integrations.connections.webhook")
def _on_webhook(sender, endpoint, delivery, payload, **kwargs):
    context = {
        "event": Connection.Event.WEBHOOK_RECEIVED,
        "endpoint": endpoint.name,
        "delivery_id": delivery.delivery_id,
        "payload": payload,
    }
    connections_run_for_event(
        event=Connection.Event.WEBHOOK_RECEIVED,
        context=context,
        event_key=f"webhook-delivery:{delivery.pk}",
        webhook_endpoint=endpoint,
    )
