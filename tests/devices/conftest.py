"""Fixtures shared by the device tests: the admin's users and session, the seed-compatible API's
owners, devices and open mode, and a management API user who may only look."""

import pytest

from tests.clients import login
from tests.devices.legacy.helpers import CANONICAL_MAC
from tests.factories import OwnerFactory, UserFactory, register_device


@pytest.fixture
def superuser():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(superuser):
    return login(superuser)


@pytest.fixture
def fleet_manager():
    """Staff who may look after devices but not change their configs."""
    return UserFactory(is_staff=True, permissions=["devices.view_device", "devices.change_device"])


@pytest.fixture
def acme():
    """The owner of the course firmware's devices: it accepts registration without a secret."""
    return OwnerFactory(name="Acme Labs", slug="acme-labs", allow_secretless_registration=True)


@pytest.fixture
def guarded():
    """An owner whose devices must present its provisioning secret."""
    return OwnerFactory(name="Guarded", slug="guarded", allow_secretless_registration=False)


@pytest.fixture
def acme_device(acme):
    return register_device(owner=acme, mac_address=CANONICAL_MAC)


@pytest.fixture
def guarded_device(guarded):
    return register_device(owner=guarded)


@pytest.fixture
def open_mode(settings):
    settings.DEVICES_LEGACY_API = "open"


@pytest.fixture
def viewer():
    """May look at owners and devices, change nothing."""
    return UserFactory(permissions=["devices.view_device", "devices.view_owner"])
