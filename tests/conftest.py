"""Shared fixtures. Tests talk to the real PostgreSQL, Redis and Celery broker (see
pyproject.toml for the addresses); only third-party services are faked, and pytest-socket
refuses every connection that does not go to this machine."""

import importlib

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from config.celery import app as celery_app
from devices.models import MeasurementType
from integrations.webhooks import inbox
from tests.factories import OwnerFactory, UserFactory, register_device


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _empty_task_queue():
    """Each test starts with an empty task queue on the real broker (tasks enqueued by earlier
    tests, or by an interrupted run, are never consumed unless a test starts a worker)."""
    celery_app.control.purge()


@pytest.fixture(autouse=True)
def _empty_inboxes():
    """Each test starts with empty inboxes of webhooks and Telegram updates (they live on the
    broker's Redis)."""
    box = inbox.inbox_get()
    if box is not None:
        for prefix in (settings.WEBHOOKS_INBOX_PREFIX, settings.BOTS_TELEGRAM_INBOX_PREFIX):
            keys = list(box.client.scan_iter(match=f"{prefix}:*", count=1000))
            if keys:
                box.client.delete(*keys)


def _is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction", marker.args[0] if marker.args else False):
        return True
    return "transactional_db" in request.fixturenames or "live_server" in request.fixturenames


@pytest.fixture(autouse=True)
def _seeded_measurement_types(request):
    """The measurement types a fresh database has, which a migration seeds: a transactional
    test empties every table when it ends, and with --reuse-db the next run starts empty too."""
    if _is_transactional(request):
        request.getfixturevalue("transactional_db")
    elif request.node.get_closest_marker("django_db") or "db" in request.fixturenames:
        request.getfixturevalue("db")
    else:
        return
    if MeasurementType.objects.exists():
        return
    seed = importlib.import_module("devices.migrations.0002_measurement_types")
    MeasurementType.objects.bulk_create(
        [MeasurementType(slug=slug, name=name, unit=unit) for slug, name, unit in seed.MEASUREMENT_TYPES]
    )


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Factories set a password for every user; the production hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
    return UserFactory(
        is_staff=True,
        permissions=[
            "devices.view_device",
            "devices.change_device",
            "devices.delete_device",
            "devices.view_owner",
            "devices.add_owner",
            "devices.change_owner",
            "devices.change_deviceconfig",
        ],
    )


@pytest.fixture
def admin_user():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(staff_user):
    client = APIClient()
    client.force_authenticate(staff_user)
    return client
