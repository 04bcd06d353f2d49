"""Every error the hub answers is JSON with a clear message and the right status."""

import pytest
import redis
from django.core.exceptions import RequestDataTooBig
from django.db import OperationalError
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from config import errors
from config.exception_handler import api_exception_handler

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/no/such/page/",
        "/api/v1/nothing/",
        "/api/v2/devices/",
        "/static/missing.js",
        "/api/v1/devices/0123456789abcdef/nothing/",
    ],
)
def test_an_unknown_path_is_a_json_404(path):
    response = Client().get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize(
    "path", ["/api/v1/devices/%00aaaaaaaaaaaaaaa/config/", "/api/v1/owners/%00/", "/device/%00", "/%00"]
)
def test_a_nul_character_in_the_path_is_a_json_400(path, staff_user):
    client = APIClient()
    client.force_authenticate(staff_user)

    response = client.get(path)

    assert response.status_code == 400
    assert response.json() == {"detail": "The URL contains a NUL character."}


def test_a_method_the_api_does_not_answer_is_a_json_405(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)

    response = client.post("/api/v1/devices/")

    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "POST" not allowed.'}


def test_the_server_error_page_is_json():
    response = errors.handler500(RequestFactory().get("/api/v1/devices/"))

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("error", "status", "payload"),
    [
        (errors.DomainError("Bad value.", field="qos"), 400, {"qos": ["Bad value."]}),
        (errors.DomainError("Bad request."), 400, {"detail": "Bad request."}),
        (errors.NotFound("Device not found."), 404, {"detail": "Device not found."}),
        (errors.AuthenticationFailed("Send a key."), 401, {"detail": "Send a key."}),
        (errors.PermissionDenied("Not yours."), 403, {"detail": "Not yours."}),
        (errors.Conflict("Taken."), 409, {"detail": "Taken."}),
        (RequestDataTooBig(), 413, {"detail": "Request body exceeds the size limit."}),
    ],
)
def test_domain_errors_become_json_with_their_status(error, status, payload):
    response = api_exception_handler(error, {})

    assert response.status_code == status
    assert response.data == payload


def test_a_429_says_when_to_retry():
    response = api_exception_handler(errors.TooManyRequests("Slow down.", retry_after=42), {})

    assert response.status_code == 429
    assert response.data == {"detail": "Slow down."}
    assert response["Retry-After"] == "42"


def test_an_unexpected_exception_is_left_to_the_500_handler():
    assert api_exception_handler(ZeroDivisionError(), {}) is None


@pytest.mark.parametrize("path", ["/api/v1/devices/register/", "/admin/login/", "/api/v1/webhooks/anything/"])
def test_a_malformed_content_length_is_a_json_400_on_every_path(client, path):
    response = client.post(path, data=b"{}", content_type="application/json", CONTENT_LENGTH="many")

    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid Content-Length header."}


def test_a_nul_character_in_a_filter_is_a_json_400(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)

    response = client.get("/api/v1/integrations/runs/?status=%00&integration=x")

    assert response.status_code == 400
    assert response.json() == {"detail": "The query string contains a NUL character."}


@pytest.mark.parametrize("path", ["/metrics", "/health/", "/health/live/"])
def test_a_read_only_view_answers_a_post_with_a_json_405_not_the_csrf_page(path):
    response = Client(enforce_csrf_checks=True).post(path)

    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == "GET, HEAD"


def test_a_csrf_failure_on_an_api_path_is_json_and_on_the_admin_is_the_page_for_people():
    api = errors.csrf_failure(RequestFactory().post("/api/v1/anything/"), reason="CSRF cookie not set.")
    admin = Client(enforce_csrf_checks=True).post("/admin/login/", {"username": "a", "password": "b"})

    assert (api.status_code, api["Content-Type"]) == (403, "application/json")
    assert api.content == b'{"detail": "CSRF verification failed: CSRF cookie not set."}'
    assert admin.status_code == 403
    assert admin["Content-Type"].startswith("text/html")


def test_errors_of_the_admin_are_pages_for_people(admin_user):
    client = Client()
    client.force_login(admin_user)

    response = client.get("/admin/devices/nothing-here/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("error", "what"),
    [(OperationalError("server closed the connection"), "database"), (redis.ConnectionError("refused"), "cache")],
)
def test_a_database_or_cache_that_cannot_be_reached_is_a_503_to_retry(error, what):
    response = api_exception_handler(error, {})

    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert response.data == {"detail": f"The {what} is unavailable; retry in a moment."}
