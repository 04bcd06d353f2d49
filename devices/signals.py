"""Signals of the device registry. Receivers (events, notifiers, live view) subscribe here,
so the registry never needs to know who listens.

The first four are sent by the services inside their transaction: receivers defer side effects
with ``transaction.on_commit``. ``device_event_dispatched`` is sent by the worker, once per
outbox event, inside the transaction that marks the event dispatched."""

from django.dispatch import Signal

device_registered = Signal()
device_registered.__doc__ = """A device registered, or registered again (sender: ``Device``).

Arguments: ``device`` (the ``Device``, owner and measurement type loaded), ``event`` (its
``DeviceEvent`` of kind ``device.registered``), ``is_new`` (False when its MAC was known)."""

device_config_changed = Signal()
device_config_changed.__doc__ = """A device's config changed and got a new version (sender: ``Device``).

Arguments: ``device``, ``event`` (its ``DeviceEvent`` of kind ``device.config_changed``),
``change`` (the ``ConfigChange`` history entry: old → new, who, which path)."""

device_config_applied = Signal()
device_config_applied.__doc__ = """A device runs a config version it did not run before (sender: ``Device``).

Arguments: ``device``, ``event`` (its ``DeviceEvent`` of kind ``device.config_applied``; the
payload's ``version`` is the version applied, ``current_version`` the newest issued), ``version``."""

device_status_changed = Signal()
device_status_changed.__doc__ = """A device went offline (silent too long) or came back online (sender: ``Device``).

Arguments: ``device``, ``event`` (its ``DeviceEvent`` of kind ``device.offline`` or
``device.online``), ``is_online``."""

device_event_dispatched = Signal()
device_event_dispatched.__doc__ = """The worker hands an outbox event on, exactly once (sender: ``DeviceEvent``);
the integrations layer subscribes.

Arguments: ``event`` (the ``DeviceEvent``; its ``payload`` describes the device as it was)."""
