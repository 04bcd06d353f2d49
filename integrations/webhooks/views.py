"""The receiving endpoint: `POST /api/v1/webhooks/<endpoint_token>/`.

A plain Django view, not DRF: it must see the raw body bytes (the signature covers them), it
has no session or token authentication to run (the signature is the authentication), and it
is the URL third parties hammer, so it does no more than it must.
"""

import logging

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from config.errors import NotFound, json_error
from config.request_body import body_read_limited
from integrations.webhooks import receiving, selectors

logger = logging.getLogger(__name__)


@csrf_exempt
def webhook_receive(request: HttpRequest, endpoint_token: str) -> JsonResponse:
    if request.method != "POST":
        response = json_error(f'Method "{request.method}" not allowed.', 405)
        response["Allow"] = "POST"
        return response
    try:
        endpoint = selectors.endpoint_for_receiving(token=endpoint_token)
        try:
            body, too_large = body_read_limited(request, settings.WEBHOOKS_BODY_MAX_BYTES)
        except ValueError:
            return json_error("Invalid Content-Length header.", 400)
        receipt = receiving.delivery_receive(
            endpoint=endpoint, headers=request.headers, body=body, body_too_large=too_large
        )
    except NotFound as exc:
        return json_error(exc.detail, 404)
    except receiving.InboxFull as exc:
        response = json_error(exc.detail, exc.status_code)
        response["Retry-After"] = str(exc.retry_after_seconds)
        return response
    except Exception:
        # Database down, or a bug: senders retry on 5xx, and a 503 tells them to. Nothing was
        # half-recorded (each record is one INSERT), so the retry is safe.
        logger.exception("webhook delivery could not be recorded")
        return json_error("The delivery could not be recorded; retry later.", 503)
    response = JsonResponse(receipt.payload, status=receipt.status_code)
    if receipt.status_code == 401:
        # What this endpoint accepts: a signature, in its scheme's header.
        header = receiving.signature_header(endpoint)
        response["WWW-Authenticate"] = f'WebhookSignature realm="Switchboard", header="{header}"'
    return response
