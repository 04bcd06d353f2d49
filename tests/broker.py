"""What waits on the real broker: the tests' queue, read as Celery's Redis transport stores it."""

import base64
import json

from django.conf import settings
from kombu import Connection


def queued_tasks() -> list[tuple[str, list]]:
    """(task name, args) of every message waiting in our queue on the real broker."""
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    found = []
    with Connection(settings.CELERY_BROKER_URL) as conn:
        client = conn.default_channel.client
        for raw in client.lrange(queue, 0, -1):
            message = json.loads(raw)
            body = json.loads(_decode_body(message))
            found.append((message["headers"]["task"], body[0]))
    return found


def _decode_body(message: dict) -> str:
    body = message["body"]
    return base64.b64decode(body).decode() if message["properties"].get("body_encoding") == "base64" else body
