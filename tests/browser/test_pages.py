"""The pages people open first render from the hub alone: the landing page and the API
documentation (no CDN, no web fonts, no console errors; a page that needed the internet would stay
blank and fail here)."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_swagger_ui_renders_the_schema_from_the_hub_alone(browser_page):
    browser_page.goto("/api/docs/")

    page = browser_page.page
    page.get_by_role("heading", name="Switchboard API").wait_for()
    page.get_by_text("Get an API token for a user").first.wait_for()
    assert page.locator(".opblock").count() > 20  # every operation is listed
    assert any("/api/schema/" in url for url in browser_page.requests)
    assert any("/static/drf_spectacular_sidecar/swagger-ui-dist/" in url for url in browser_page.requests)
    browser_page.assert_clean()


def test_redoc_renders_the_schema_from_the_hub_alone(browser_page):
    browser_page.goto("/api/redoc/")

    page = browser_page.page
    page.get_by_role("heading", name="Switchboard API").first.wait_for()
    page.get_by_role("heading", name="Get an API token for a user").wait_for()
    assert any("/api/schema/" in url for url in browser_page.requests)
    assert any("/static/drf_spectacular_sidecar/redoc/" in url for url in browser_page.requests)
    browser_page.assert_clean()


def test_the_landing_page_renders_and_its_links_lead_to_the_docs(browser_page):
    browser_page.goto("/")

    page = browser_page.page
    page.get_by_role("heading", name="Switchboard").wait_for()
    page.get_by_role("link", name="API docs (ReDoc)").click()
    page.get_by_role("heading", name="Get an API token for a user").wait_for()
    assert page.url == browser_page.origin + "/api/redoc/"
    browser_page.assert_clean()
