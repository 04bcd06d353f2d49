"""Turns every API error into JSON: `{"detail": ...}` or field errors, with the right status."""

import logging

import redis
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler

from config.errors import BODY_TOO_LARGE, DomainError, TooManyRequests

logger = logging.getLogger(__name__)


def _challenge(context) -> str | None:
    """What WWW-Authenticate names for a 401: the view's own answer (DRF's mechanism: its first
    authenticator's scheme, or what a view without one declares it takes)."""
    view, request = context.get("view"), context.get("request")
    if view is None or request is None:
        return None
    return view.get_authenticate_header(request)


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        response = Response(exc.as_payload(), status=exc.status_code)
        if exc.status_code == status.HTTP_401_UNAUTHORIZED and (challenge := _challenge(context)):
            response["WWW-Authenticate"] = challenge
        if isinstance(exc, TooManyRequests):
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": BODY_TOO_LARGE}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    unavailable = _unavailable_dependency(exc)
    if unavailable:
        # PostgreSQL or Redis unreachable (restarting, failing over): the write that failed was
        # not committed, and the client may send the request again.
        logger.error("%s unavailable", unavailable, extra={"error": type(exc).__name__})
        return Response(
            {"detail": f"The {unavailable} is unavailable; retry in a moment."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, APIException) and not isinstance(response.data, dict):
        response.data = {"detail": response.data}
    return response


def _unavailable_dependency(exc) -> str | None:
    if isinstance(exc, OperationalError | InterfaceError):
        return "database"
    if isinstance(exc, redis.RedisError):
        return "cache"
    return None
