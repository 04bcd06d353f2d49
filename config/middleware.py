from django.conf import settings

from config.errors import BODY_TOO_LARGE, json_error


class RequestGuardMiddleware:
    """Refuse, before anything reads them, requests no view can serve: an oversized body (413)
    and a path or query string with a NUL character (400).

    Django's own body limit only trips when the body is read and then answers 400; devices and
    API clients deserve the right status, and the check costs one header lookup. A NUL in a
    path segment (`/api/v1/devices/%00…/config/`) or a filter (`?status=%00`) would reach
    PostgreSQL, which refuses NUL in text, and turn into a 500: refused here once for every
    view, as `config.parsers` refuses it in JSON bodies.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def __call__(self, request):
        if "\x00" in request.path:
            return json_error("The URL contains a NUL character.", 400)
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query:
            return json_error("The query string contains a NUL character.", 400)
        length = request.META.get("CONTENT_LENGTH")
        if length:
            try:
                length = int(length)
            except ValueError:
                return json_error("Invalid Content-Length header.", 400)
            # The admin has Django's own limits; the webhook receiver allows larger bodies and
            # enforces WEBHOOKS_BODY_MAX_BYTES itself.
            exempt = request.path.startswith(("/admin/", "/api/v1/webhooks/"))
            if self.limit is not None and length > self.limit and not exempt:
                return json_error(BODY_TOO_LARGE, 413)
        return self.get_response(request)
