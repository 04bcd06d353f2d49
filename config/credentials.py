"""Random machine credentials: generated here, stored only as a keyed HMAC-SHA256 digest.

Password hashers are deliberately slow; these secrets are long and random, so a fast keyed
hash is as safe and keeps the device endpoints cheap.
"""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def credential_generate(*, nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def credential_digest(raw: str) -> str:
    if not settings.CREDENTIAL_HASH_KEY:
        raise ImproperlyConfigured("SECRET_KEY (or CREDENTIAL_HASH_KEY) must be set when DEBUG is off.")
    key = settings.CREDENTIAL_HASH_KEY.encode()
    return hmac.new(key, raw.encode(), hashlib.sha256).hexdigest()


def credential_matches(raw: str, digest: str | None) -> bool:
    if not raw or not digest:
        return False
    return hmac.compare_digest(credential_digest(raw), digest)
