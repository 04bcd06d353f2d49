"""One family of domain errors, and the handler that turns every API error into clean JSON."""

from django.http import JsonResponse
from rest_framework import status


class DomainError(Exception):
    """A request the domain refuses; views answer it with `status_code` and `{"detail": ...}`."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, detail: str, *, field: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.field = field

    def as_payload(self) -> dict:
        if self.field:
            return {self.field: [self.detail]}
        return {"detail": self.detail}


class NotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND


class AuthenticationFailed(DomainError):
    status_code = status.HTTP_401_UNAUTHORIZED


class PermissionDenied(DomainError):
    status_code = status.HTTP_403_FORBIDDEN


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT


class TooManyRequests(DomainError):
    """Throttled: answered 429 with `Retry-After: <retry_after>` (seconds)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS

    def __init__(self, detail: str, *, retry_after: int):
        super().__init__(detail)
        self.retry_after = max(1, int(retry_after))


BODY_TOO_LARGE = "Request body exceeds the size limit."


def json_error(detail: str, status_code: int) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status_code)


def handler400(request, exception=None):
    return json_error("Bad request.", 400)


def handler403(request, exception=None):
    return json_error("You do not have permission to perform this action.", 403)


def handler404(request, exception=None):
    return json_error("Not found.", 404)


def handler500(request):
    return json_error("Internal server error.", 500)
