"""Clients of the tests: a user's API token, a logged-in browser session, and what a browser
posts back from an admin form."""

from django.test import Client
from rest_framework.test import APIClient

from config.tokens import api_token_issue


def as_user(user) -> APIClient:
    """An API client sending one of the user's tokens."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user)}")
    return client


def login(user) -> Client:
    """A browser session of the user (the admin)."""
    client = Client()
    client.force_login(user)
    return client


def change_form_data(response) -> dict:
    """What a browser posts back from a rendered admin change form, unchanged."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value
    return data
