"""`POST /telegram-webhook` (and `/telegram-webhook/<segment>` when TELEGRAM_WEBHOOK_PATH is set).

A plain Django view like the signed webhooks' (integrations/webhooks/views.py): it must read the
raw body, its authentication is Telegram's secret header, and Telegram hammers it, so it does no
more than it must. Every answer is JSON; 2xx only once the update is recorded.
"""

import logging

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from bots.telegram import receiving
from config.errors import json_error
from config.request_body import body_read_limited

logger = logging.getLogger(__name__)


@csrf_exempt
def telegram_webhook(request: HttpRequest, segment: str | None = None) -> JsonResponse:
    if request.method != "POST":
        response = json_error(f'Method "{request.method}" not allowed.', 405)
        response["Allow"] = "POST"
        return response
    try:
        try:
            body, too_large = body_read_limited(request, settings.BOTS_TELEGRAM_BODY_MAX_BYTES)
        except ValueError:
            return json_error("Invalid Content-Length header.", 400)
        received = receiving.update_receive(
            segment=segment,
            secret=request.headers.get(receiving.SECRET_HEADER),
            body=body,
            too_large=too_large,
        )
    except receiving.UpdateRefused as exc:
        response = JsonResponse(exc.as_payload(), status=exc.status_code)
        if isinstance(exc, receiving.SecretMissing):
            response["WWW-Authenticate"] = (
                f'TelegramSecretToken realm="Switchboard", header="{receiving.SECRET_HEADER}"'
            )
        elif isinstance(exc, receiving.InboxFull):
            response["Retry-After"] = str(exc.retry_after_seconds)
        return response
    except Exception:
        # Redis down, or a bug: Telegram retries on 5xx, and nothing was half-recorded.
        logger.exception("telegram update could not be recorded")
        return json_error("The update could not be recorded; retry later.", 503)
    return JsonResponse({"ok": True, "update_id": received.update_id, "duplicate": received.duplicate})
