"""Reading a raw request body under a limit of its own, for the views that must see the bytes
(inbound webhooks: a signature covers them, or Telegram's updates).

`request.body` would refuse anything over DATA_UPLOAD_MAX_MEMORY_SIZE (the API's limit), while
each of those views has its own; this never reads more than the limit + 1 bytes.
"""

from django.http import HttpRequest


def body_read_limited(request: HttpRequest, limit: int) -> tuple[bytes, bool]:
    """The raw body and whether it is over `limit`; ValueError for an invalid Content-Length."""
    declared = request.META.get("CONTENT_LENGTH")
    if declared and int(declared) > limit:
        return b"", True
    body = request.read(limit + 1)
    return (b"", True) if len(body) > limit else (body, False)
