"""How a device authenticates: `Authorization: Device <device_key>`, valid only for the device in
the URL, checked in constant time against the key digest in its cached boot record."""

import dataclasses

from rest_framework import authentication, exceptions

from config.credentials import credential_matches
from config.errors import NotFound
from devices.api.authentication import credential_from_header
from devices.boot_cache import boot_record_fetch

DEVICE_SCHEME = "Device"
# What a 401 of a registration names in WWW-Authenticate: no registered HTTP scheme carries a
# secret in a header of our own, so the challenge names what the endpoint does take rather than
# a scheme it would refuse.
PROVISIONING_SECRET_CHALLENGE = 'ProvisioningSecret realm="Switchboard", header="X-Provisioning-Secret"'


@dataclasses.dataclass
class DevicePrincipal:
    """The caller is a device, authenticated by its key for the device in the URL."""

    device_id: str
    record: dict
    # Already marked seen within the resolution: no need to mark it again.
    seen_recently: bool = False
    is_authenticated: bool = True
    is_staff: bool = False
    is_superuser: bool = False
    is_active: bool = True

    def has_perm(self, perm, obj=None) -> bool:
        return False

    def has_perms(self, perms, obj=None) -> bool:
        return False


def device_authenticate(request, device_id: str) -> DevicePrincipal | None:
    """The device that `Authorization: Device <device_key>` authenticates, for the device in the
    URL; None if the request carries another credential or none.

    Raises DRF's errors: a malformed header or a wrong key is 401, an unknown device 404, a
    deactivated device 403. One cache round trip on a hit (key digest and "seen" mark together).
    """
    key = credential_from_header(request, DEVICE_SCHEME)
    if key is None:
        return None
    record, seen_recently = boot_record_fetch(device_id)
    if record is None:
        raise NotFound("Device not found.")
    if not credential_matches(key, record["key_digest"]):
        raise exceptions.AuthenticationFailed("Invalid device key.")
    if not record["is_active"]:
        raise exceptions.PermissionDenied("This device is deactivated.")
    return DevicePrincipal(device_id=device_id, record=record, seen_recently=seen_recently)


class DeviceKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Device <device_key>`, valid only for the device named in the URL."""

    keyword = DEVICE_SCHEME

    def authenticate(self, request):
        device = device_authenticate(request, request.parser_context["kwargs"].get("device_id", ""))
        return None if device is None else (device, None)

    def authenticate_header(self, request):
        return self.keyword
