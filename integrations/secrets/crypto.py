"""Encryption at rest of secret settings and credentials (Fernet; MultiFernet for key rotation).

Keys come from INTEGRATIONS_ENCRYPTION_KEYS: the first one encrypts, every one decrypts, so a
new key is put first and the old one kept until `manage.py secrets_reencrypt` has run
(`integrations.secrets.reencryption`, which covers every column encrypted here).

Without a configured key we derive one from SECRET_KEY (HKDF-SHA256) and log a warning once,
whatever DEBUG says; `manage.py check` also warns when DEBUG is off (integrations.W001). We
chose this over refusing to store secrets so that the embedded mode and the test suite work
with no extra setup: SECRET_KEY is itself a required production secret, so the derived key is
as strong, but secrets become unreadable if SECRET_KEY ever changes — production deployments
should set a dedicated key.
"""

import base64
import functools
import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from config.errors import DomainError

logger = logging.getLogger(__name__)

_HKDF_INFO = b"switchboard.integrations.encryption-at-rest"
_GENERATE_HINT = (
    'generate one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


class DecryptionFailed(DomainError):
    """A stored secret no configured key can decrypt (the key that wrote it was removed)."""

    status_code = 503


def _derived_key(secret_key: str) -> bytes:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(secret_key.encode())
    return base64.urlsafe_b64encode(raw)


@functools.lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        logger.warning(
            "INTEGRATIONS_ENCRYPTION_KEYS is not set: secrets are encrypted with a key derived from "
            "SECRET_KEY and become unreadable if SECRET_KEY changes; %s",
            _GENERATE_HINT,
        )
        return MultiFernet([Fernet(_derived_key(secret_key))])
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.strip().encode()))
        except (ValueError, TypeError):
            # Never echo the key itself: it is a secret even when malformed.
            raise ImproperlyConfigured(
                f"INTEGRATIONS_ENCRYPTION_KEYS entry #{position} is not a valid Fernet key "
                f"(32 url-safe base64-encoded bytes); {_GENERATE_HINT}"
            ) from None
    return MultiFernet(fernets)


def fernet() -> MultiFernet:
    """The MultiFernet for the current settings (cached; follows `override_settings`)."""
    keys = tuple(key for key in settings.INTEGRATIONS_ENCRYPTION_KEYS if key.strip())
    return _fernet(keys, settings.SECRET_KEY)


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str, *, what: str = "A stored secret") -> str:
    """Decrypt a token; `what` names the secret in the error (never its value)."""
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionFailed(
            f"{what} cannot be decrypted with the configured INTEGRATIONS_ENCRYPTION_KEYS "
            "(was the key that encrypted it removed?); enter it again."
        ) from None


def reencrypt(token: str) -> str:
    """The same secret encrypted under the first (current) key, for key rotation."""
    try:
        return fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise DecryptionFailed("A stored secret cannot be decrypted with the configured keys.") from None


def is_under_first_key(token: str) -> bool:
    """Whether the first (current) key alone decrypts `token`: true of every secret once the
    re-encryption has run, and the condition for removing the other keys."""
    first = fernet()._fernets[0]
    try:
        first.decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def mask(plaintext: str | None) -> str | None:
    """How a secret is shown after saving: bullets, plus the last 4 characters of a long one
    so an admin can tell tokens apart. Short secrets (passwords) reveal nothing, not even
    their length."""
    if plaintext is None:
        return None
    if len(plaintext) >= 16:
        return "••••••" + plaintext[-4:]
    return "••••••"


@checks.register(checks.Tags.security)
def check_encryption_keys(app_configs=None, **kwargs):
    keys = tuple(key for key in settings.INTEGRATIONS_ENCRYPTION_KEYS if key.strip())
    if not keys:
        if settings.DEBUG:
            return []
        return [
            checks.Warning(
                "INTEGRATIONS_ENCRYPTION_KEYS is not set; secret settings and credentials are encrypted "
                "with a key derived from SECRET_KEY.",
                hint="Set a dedicated key: " + _GENERATE_HINT,
                id="integrations.W001",
            )
        ]
    try:
        _fernet(keys, settings.SECRET_KEY)
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="integrations.E001")]
    return []
