"""Admin console of the device registry.

Every write goes through `devices.services` (the same functions as the API), never through a
model form's own save: that is what bumps config versions, records history, emits events and
invalidates the delivery cache. The device changelist must stay fast with 100,000 devices, so
it joins what it shows and never counts twice.
"""

from devices.admin import devices, events, owners  # noqa: F401
from devices.admin.devices import DeviceAdmin

__all__ = ["DeviceAdmin"]
