"""The JSON parser every API view uses refuses what would otherwise fail deep inside the hub."""

import json

import pytest
from rest_framework.test import APIClient

from config.parsers import MAX_DEPTH, UNSTORABLE_DETAIL

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/devices/register/"


def post(body: str):
    return APIClient().post(REGISTER, body, content_type="application/json")


@pytest.mark.parametrize("body", ["[" * 10_000 + "]" * 10_000, '{"a":' * 10_000 + "1" + "}" * 10_000])
def test_a_body_nested_10000_deep_is_a_400_not_a_recursion_error(body):
    response = post(body)

    assert response.status_code == 400
    assert response.json() == {"detail": f"Invalid JSON: nested deeper than {MAX_DEPTH} levels."}


def test_nesting_is_limited_even_below_what_the_decoder_survives():
    response = post(json.dumps({"owner": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}))

    assert response.status_code == 400
    assert response.json() == {"detail": f"Invalid JSON: nested deeper than {MAX_DEPTH} levels."}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ('{"owner": "acme\\u0000"}', {"owner": ["Null characters are not allowed."]}),
        ('{"owner": "\\ud800"}', {"owner": ["Null characters are not allowed."]}),
        ('{"owner": {"a": "\\udfff"}}', {"owner": ["Null characters are not allowed. ($.owner.a)"]}),
        ('{"owner": ["x", "\\u0000"]}', {"detail": f"{UNSTORABLE_DETAIL} ($.owner[1])."}),
        ('{"own\\u0000er": "acme"}', {"detail": f"{UNSTORABLE_DETAIL} (a key of $)."}),
        ('"\\u0000"', {"detail": f"{UNSTORABLE_DETAIL} ($)."}),
    ],
)
def test_nul_and_unpaired_surrogates_anywhere_in_a_body_are_a_400_that_says_where(body, errors):
    response = post(body)

    assert response.status_code == 400
    assert response.json() == errors


def test_an_ordinary_body_still_reaches_the_view():
    response = post('{"owner": "Москва 🚀"}')

    assert response.status_code == 400
    assert "mac_address" in response.json()  # the view's own field errors: the parser let it through
