"""One family of domain errors, and the handlers that answer every error of an API or device
path as JSON. Pages meant for people (the admin, the landing page) keep Django's HTML pages."""

import functools

from django.http import JsonResponse
from django.views import csrf, defaults
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


# Paths of pages a person reads in a browser; everything else is an API or device path.
PAGES_FOR_PEOPLE = ("/admin/",)


def is_page_for_people(request) -> bool:
    path = request.path
    return path == "/" or path.startswith(PAGES_FOR_PEOPLE)


def handler400(request, exception=None):
    if is_page_for_people(request):
        return defaults.bad_request(request, exception)
    return json_error("Bad request.", 400)


def handler403(request, exception=None):
    if is_page_for_people(request):
        return defaults.permission_denied(request, exception)
    return json_error("You do not have permission to perform this action.", 403)


def handler404(request, exception=None):
    if is_page_for_people(request):
        return defaults.page_not_found(request, exception)
    return json_error("Not found.", 404)


def handler500(request):
    if is_page_for_people(request):
        return defaults.server_error(request)
    return json_error("Internal server error.", 500)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: the admin's login form keeps Django's page; an API or device path that
    is not CSRF-exempt (a POST to a read-only view) gets JSON like every other error there."""
    if is_page_for_people(request):
        return csrf.csrf_failure(request, reason)
    return json_error(f"CSRF verification failed: {reason}", 403)


def method_not_allowed(allowed: tuple[str, ...]) -> JsonResponse:
    response = json_error(f"Method not allowed: use {allowed[0]}.", 405)
    response["Allow"] = ", ".join(allowed)
    return response


def read_only_view(view):
    """A plain Django view that only reads: GET and HEAD, any other method a JSON 405 (not
    Django's empty one), and exempt from CSRF — nothing it does can be forged, and the CSRF
    check would otherwise answer a stray POST before the method check does."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return method_not_allowed(("GET", "HEAD"))
        return view(request, *args, **kwargs)

    wrapped.csrf_exempt = True
    return wrapped
