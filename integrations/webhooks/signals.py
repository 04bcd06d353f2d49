"""Signals of inbound webhooks. Subscribers (the connections feature) hook in here, so the
webhooks code never needs to know who listens.

`webhook_received` is sent by the worker inside the transaction that marks the delivery
processed, once per delivery: if a receiver raises, nothing it wrote is kept and the delivery
stays unprocessed (with the error) until it is reprocessed. Receivers defer side effects that
leave the database (messages, HTTP calls) with ``transaction.on_commit``.
"""

from django.dispatch import Signal

# sender: WebhookDelivery; kwargs: endpoint (WebhookEndpoint), delivery (WebhookDelivery),
# payload (the parsed JSON body)
webhook_received = Signal()
