"""Shared fixtures. Tests talk to the real PostgreSQL, Redis and Celery broker (see
pyproject.toml for the addresses); only third-party services are faked, and pytest-socket
refuses every connection that does not go to this machine."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import OwnerFactory, UserFactory, register_device


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def owner():
    return OwnerFactory()


@pytest.fixture
def device(owner):
    """A registered device; `device.key` holds its raw device key."""
    return register_device(owner=owner)


@pytest.fixture
def device_client(device):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {device.key}")
    return client


@pytest.fixture
def staff_user():
    return UserFactory(is_staff=True, permissions=["devices.view_device", "devices.change_device",
                                                   "devices.delete_device", "devices.view_owner",
                                                   "devices.add_owner", "devices.change_owner",
                                                   "devices.change_deviceconfig"])


@pytest.fixture
def admin_user():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(staff_user):
    client = APIClient()
    client.force_authenticate(staff_user)
    return client
