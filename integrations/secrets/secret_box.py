"""Encryption of webhook signing secrets at rest.

HMAC verification needs the raw secret, so it cannot be hashed like our own credentials. This
is the one place the webhooks code encrypts and decrypts; it delegates to `integrations.secrets.crypto`
(MultiFernet keyed from INTEGRATIONS_ENCRYPTION_KEYS, else derived from SECRET_KEY), so webhook
secrets and secret settings share keys and key rotation.
"""

from integrations.secrets import crypto

SecretUnreadable = crypto.DecryptionFailed


def encrypt(raw: str) -> str:
    return crypto.encrypt(raw)


def decrypt(sealed: str) -> str:
    """The raw secret; raises SecretUnreadable when no configured key can decrypt it."""
    return crypto.decrypt(sealed, what="A webhook signing secret")
