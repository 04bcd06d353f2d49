"""Fixtures shared by the device tests: the seed-compatible API's owners, devices and open mode,
and a management API user who may only look."""

import pytest

from tests.devices.legacy_helpers import CANONICAL_MAC
from tests.factories import OwnerFactory, UserFactory, register_device


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
