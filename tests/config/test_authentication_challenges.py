"""Every 401 names, in WWW-Authenticate, the scheme its endpoint accepts (RFC 9110 §11.6.1)."""

import pytest
from rest_framework.test import APIClient

from tests.factories import registration_payload

pytestmark = pytest.mark.django_db

DEVICE = "Device"
TOKEN = "Token"
PASSWORD = 'Password realm="Switchboard"'
PROVISIONING_SECRET = 'ProvisioningSecret realm="Switchboard", header="X-Provisioning-Secret"'


def call(method: str, path: str, body=None, authorization: str | None = None):
    client = APIClient()
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    return getattr(client, method)(path, body, format="json")


@pytest.mark.parametrize(
    ("family", "method", "path", "authorization", "challenge"),
    [
        ("device: no key", "get", "/api/v1/devices/{device_id}/topics/", None, DEVICE),
        ("device: wrong key", "get", "/api/v1/devices/{device_id}/config/", "Device wrong-key", DEVICE),
        ("device: malformed header", "get", "/api/v1/devices/{device_id}/topics/", "Device a b", DEVICE),
        ("device: config applied", "post", "/api/v1/devices/{device_id}/config/applied/", None, DEVICE),
        ("management: no token", "get", "/api/v1/devices/", None, TOKEN),
        ("management: unknown token", "get", "/api/v1/owners/", "Token made-up", TOKEN),
        ("management: token list", "get", "/api/v1/auth/tokens/", None, TOKEN),
        ("integrations: no token", "get", "/api/v1/integrations/", None, TOKEN),
        ("settings: no token", "get", "/api/v1/integration-settings/", None, TOKEN),
        ("legacy write: unknown token", "delete", "/device/{device_id}", "Token made-up", TOKEN),
    ],
)
def test_an_endpoint_names_the_scheme_it_accepts(device, family, method, path, authorization, challenge):
    response = call(method, path.format(device_id=device.device_id), {"version": 1}, authorization)

    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"] == challenge
    assert "detail" in response.json()


def test_a_wrong_password_at_the_login_names_the_password_it_takes(staff_user):
    response = call("post", "/api/v1/auth/token/", {"username": staff_user.username, "password": "wrong"})

    assert response.status_code == 401
    assert response.json() == {"detail": "Wrong username or password."}
    assert response["WWW-Authenticate"] == PASSWORD


@pytest.mark.parametrize("path", ["/api/v1/devices/register/", "/register/"], ids=["api", "seed-compatible"])
def test_a_registration_without_its_secret_names_the_provisioning_secret(owner, path):
    response = call("post", path, registration_payload(owner=owner))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == PROVISIONING_SECRET


def test_a_wrong_provisioning_secret_is_403_without_a_challenge(owner):
    client = APIClient()
    response = client.post(
        "/api/v1/devices/register/", registration_payload(owner=owner), format="json", HTTP_X_PROVISIONING_SECRET="no"
    )

    assert response.status_code == 403
    assert "WWW-Authenticate" not in response
