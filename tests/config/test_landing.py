"""The landing page at `/`: what the hub is and a link to every place a newcomer looks for."""

import re

import pytest
from django.test import Client

from tests.factories import OwnerFactory, register_device

pytestmark = pytest.mark.django_db

LINKS = {
    "/admin/": "Admin",
    "/api/docs/": "API docs (Swagger UI)",
    "/api/redoc/": "API docs (ReDoc)",
    "/api/schema/": "OpenAPI schema",
    "/health/": "Health",
}


def links_of(html: str) -> dict[str, str]:
    return {href: text for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', html)}


def test_the_landing_page_is_html_that_says_what_the_hub_is():
    response = Client().get("/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "<title>Switchboard</title>" in html and "IoT fleet" in html


def test_the_landing_page_links_the_admin_the_api_docs_the_schema_and_health():
    links = links_of(Client().get("/").content.decode())

    assert links == LINKS


@pytest.mark.parametrize("path", sorted(LINKS))
def test_every_link_of_the_landing_page_resolves(path):
    response = Client().get(path, follow=True)

    assert response.status_code == 200  # the admin through its login page
    assert response.redirect_chain in ([], [("/admin/login/?next=/admin/", 302)])


def test_the_admins_view_site_link_leads_to_the_landing_page(admin_user):
    client = Client()
    client.force_login(admin_user)

    assert '<a href="/">View site</a>' in client.get("/admin/").content.decode()


def test_the_landing_page_takes_no_writes():
    assert Client().post("/").status_code == 405


def test_the_seed_compatible_paths_beside_it_still_answer(settings):
    settings.DEVICES_LEGACY_API = "known-owners"
    device = register_device(owner=OwnerFactory(allow_secretless_registration=True))

    response = Client().get(f"/topics/{device.device_id}")

    assert response.status_code == 200, response.content
