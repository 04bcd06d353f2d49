"""Pages of every list in the API: limit and offset stay within what the database accepts."""

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from config.pagination import BoundedLimitOffsetPagination


def page_numbers(**params) -> tuple[int, int]:
    request = Request(APIRequestFactory().get("/", params))
    paginator = BoundedLimitOffsetPagination()
    return paginator.get_limit(request), paginator.get_offset(request)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, (50, 0)),
        ({"limit": 10, "offset": 20}, (10, 20)),
        ({"limit": 10**30}, (1000, 0)),
        ({"offset": 10**30}, (50, 10**12)),
        ({"limit": "many", "offset": -3}, (50, 0)),
    ],
)
def test_limit_and_offset_are_bounded(params, expected):
    assert page_numbers(**params) == expected
