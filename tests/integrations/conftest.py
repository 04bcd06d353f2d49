"""Fixtures of the integrations tests."""

import socket

import pytest

from integrations.secrets import crypto, settings_store
from tests.workers import celery_worker, finished_tasks  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def _fresh_settings_store():
    """Each test starts with an empty in-memory settings cache, as a freshly started process
    would (the database is rolled back or flushed between tests, the cache is not)."""
    settings_store.store.reset()
    crypto._fernet.cache_clear()
    yield
    settings_store.store.reset()


@pytest.fixture
def known_setting():
    """Declare settings for one test: `known_setting("KEY", type="int", default=5)`."""
    added = []

    def declare(key: str, **kwargs) -> settings_store.SettingSpec:
        spec = settings_store.register_setting(key, **kwargs)
        added.append(key)
        return spec

    yield declare
    for key in added:
        settings_store.KNOWN_SETTINGS.pop(key, None)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Users are created by the dozen here; the production hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# Local stand-ins for a service that is down: shared by the outbound, provider and registry tests.
@pytest.fixture
def refused_base_url():
    """A local port nobody listens on: every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def silent_base_url():
    """A server that accepts connections and never answers: every read times out."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()
