from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

GENERATE_KEY_HINT = 'generate one: python -c "import secrets; print(secrets.token_urlsafe(50))"'
# The examples shipped in the repository: a key anyone can read is no key.
PLACEHOLDER_KEYS = frozenset({"change-me-to-a-long-random-string"})
MIN_KEY_LENGTH = 32


def require_secrets() -> None:
    """Servers and workers refuse to start without the key they sign and hash with, or with a
    key that protects nothing: the placeholder of .env.example, or one too short to be random."""
    if not settings.CREDENTIAL_HASH_KEY:
        raise ImproperlyConfigured(f"SECRET_KEY must be set when DEBUG is off. To {GENERATE_KEY_HINT}")
    settings.SECRET_KEY  # noqa: B018  (Django refuses an empty key on access)
    if settings.DEBUG:
        return
    for name in ("SECRET_KEY", "CREDENTIAL_HASH_KEY"):
        key = getattr(settings, name)
        if key in PLACEHOLDER_KEYS or len(key) < MIN_KEY_LENGTH:
            raise ImproperlyConfigured(
                f"{name} is the example's placeholder or shorter than {MIN_KEY_LENGTH} characters; {GENERATE_KEY_HINT}"
            )
