"""The OpenAPI description of the API and the two documentation pages."""

import re

import pytest
from django.core.management import call_command
from django.test import Client
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_valid_openapi(schema):
    validate_schema(schema)  # raises on any violation of the OpenAPI specification
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Switchboard API"


def test_the_schema_describes_the_device_and_management_endpoints(schema):
    assert {
        "/api/v1/devices/register/",
        "/api/v1/devices/{device_id}/topics/",
        "/api/v1/devices/{device_id}/config/",
        "/api/v1/devices/{device_id}/config/applied/",
        "/api/v1/auth/token/",
        "/api/v1/owners/",
        "/api/v1/owners/{slug}/rotate-secret/",
        "/api/v1/devices/",
        "/api/v1/devices/{device_id}/",
    } <= set(schema["paths"])
    assert set(schema["paths"]["/api/v1/devices/{device_id}/config/"]) >= {"get", "put", "patch"}


def test_the_schema_names_the_device_key_and_token_schemes(schema):
    schemes = schema["components"]["securitySchemes"]

    assert {"deviceKey", "apiToken"} <= set(schemes)
    register = schema["paths"]["/api/v1/devices/register/"]["post"]
    assert "X-Provisioning-Secret" in {p["name"] for p in register.get("parameters", [])}


def test_the_schema_is_served_as_yaml_by_default():
    response = Client().get("/api/schema/")

    assert response.status_code == 200
    assert response.content.startswith(b"openapi: 3.")


def asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_documentation_pages_render_from_the_hubs_own_static_files(path):
    response = Client().get(path)

    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/schema/" in html
    assets = asset_urls(html)
    assert assets and all(url.startswith("/static/drf_spectacular_sidecar/") for url in assets)
    assert "fonts.googleapis.com" not in html  # what the scripts load, the browser test sees


def test_after_collectstatic_the_docs_assets_are_served_with_debug_off(settings, tmp_path):
    """Production: `collectstatic` (the Dockerfile runs it) then WhiteNoise, no Django static view."""
    assert not settings.DEBUG
    settings.STATIC_ROOT = tmp_path
    call_command("collectstatic", "--noinput", verbosity=0)
    client = Client()  # a new handler: WhiteNoise indexes STATIC_ROOT when it starts

    assets = asset_urls(client.get("/api/docs/").content.decode()) + asset_urls(
        client.get("/api/redoc/").content.decode()
    )

    assert {url.rsplit("/", 1)[-1] for url in assets} >= {"swagger-ui-bundle.js", "redoc.standalone.js"}
    for url in assets:
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"".join(response.streaming_content) if response.streaming else response.content


def test_the_schema_generates_without_warnings(tmp_path):
    # Every view and serializer must describe itself: a warning means a guessed, possibly wrong, type.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
