"""Credentials of the management API: API tokens (people and scripts). A device's key is
`devices.controller.authentication`.

Both are sent in the Authorization header, never in a URL, and checked against a keyed
digest in constant time.
"""

from django.utils import timezone
from rest_framework import authentication, exceptions

from config.credentials import credential_digest
from config.models import ApiToken

TOKEN_SCHEME = "Token"
# What a 401 names in WWW-Authenticate where the endpoint takes no Authorization header: no
# registered HTTP scheme carries a password in a JSON body, so the challenge names what the
# endpoint does take rather than a scheme it would refuse (the registration's is
# `devices.controller.authentication.PROVISIONING_SECRET_CHALLENGE`).
PASSWORD_CHALLENGE = 'Password realm="Switchboard"'


def credential_from_header(request, scheme: str) -> str | None:
    """The credential of `Authorization: <scheme> <credential>`; None if the header names another
    scheme or none (the device key's scheme reads it too)."""
    header = authentication.get_authorization_header(request).split()
    if not header or header[0].lower() != scheme.lower().encode():
        return None
    if len(header) != 2:
        raise exceptions.AuthenticationFailed(f"Invalid {scheme} header: expected '{scheme} <credential>'.")
    try:
        return header[1].decode()
    except UnicodeError:
        raise exceptions.AuthenticationFailed(f"Invalid {scheme} credential.") from None


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <token>` for the management API."""

    keyword = TOKEN_SCHEME

    def authenticate(self, request):
        raw = credential_from_header(request, self.keyword)
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
