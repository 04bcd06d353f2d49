"""Turns every API error into JSON: `{"detail": ...}` or field errors, with the right status."""

from django.core.exceptions import RequestDataTooBig
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler

from config.errors import BODY_TOO_LARGE, DomainError


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        response = Response(exc.as_payload(), status=exc.status_code)
        if exc.status_code == 401:
            response["WWW-Authenticate"] = "Device"
        return response
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": BODY_TOO_LARGE}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, APIException) and not isinstance(response.data, dict):
        response.data = {"detail": response.data}
    return response
