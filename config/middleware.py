from django.conf import settings

from config.errors import BODY_TOO_LARGE, json_error


class RequestBodyLimitMiddleware:
    """Refuse an oversized body with 413 before anything reads it.

    Django's own limit only trips when the body is read and then answers 400; devices and API
    clients deserve the right status, and the check costs one header lookup.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def __call__(self, request):
        length = request.META.get("CONTENT_LENGTH")
        if length and self.limit is not None and not request.path.startswith("/admin/"):
            try:
                too_large = int(length) > self.limit
            except ValueError:
                return json_error("Invalid Content-Length header.", 400)
            if too_large:
                return json_error(BODY_TOO_LARGE, 413)
        return self.get_response(request)
