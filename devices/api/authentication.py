"""Credentials of the API: device keys (devices) and API tokens (people and scripts).

Both are sent in the Authorization header, never in a URL, and checked against a keyed
digest in constant time.
"""

import dataclasses

from django.utils import timezone
from rest_framework import authentication, exceptions

from config.credentials import credential_digest, credential_matches
from config.errors import NotFound
from config.models import ApiToken
from devices.delivery import delivery_fetch

DEVICE_SCHEME = "Device"
TOKEN_SCHEME = "Token"
# What a 401 names in WWW-Authenticate where the endpoint takes no Authorization header: no
# registered HTTP scheme carries a password in a JSON body or a secret in a header of our own,
# so these challenges name what the endpoint does take rather than a scheme it would refuse.
PASSWORD_CHALLENGE = 'Password realm="Switchboard"'
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


def _credential_from_header(request, scheme: str) -> str | None:
    header = authentication.get_authorization_header(request).split()
    if not header or header[0].lower() != scheme.lower().encode():
        return None
    if len(header) != 2:
        raise exceptions.AuthenticationFailed(f"Invalid {scheme} header: expected '{scheme} <credential>'.")
    try:
        return header[1].decode()
    except UnicodeError:
        raise exceptions.AuthenticationFailed(f"Invalid {scheme} credential.") from None


def device_authenticate(request, device_id: str) -> DevicePrincipal | None:
    """The device that `Authorization: Device <device_key>` authenticates, for the device in the
    URL; None if the request carries another credential or none.

    Raises DRF's errors: a malformed header or a wrong key is 401, an unknown device 404, a
    deactivated device 403. One cache round trip on a hit (key digest and "seen" mark together).
    """
    key = _credential_from_header(request, DEVICE_SCHEME)
    if key is None:
        return None
    record, seen_recently = delivery_fetch(device_id)
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


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <token>` for the management API."""

    keyword = TOKEN_SCHEME

    def authenticate(self, request):
        raw = _credential_from_header(request, self.keyword)
        if raw is None:
            return None
        token = ApiToken.objects.select_related("user").filter(digest=credential_digest(raw)).first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid token.")
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword
