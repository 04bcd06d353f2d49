from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def require_secrets() -> None:
    """Servers and workers refuse to start without the key they sign and hash with."""
    if not settings.CREDENTIAL_HASH_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    settings.SECRET_KEY  # noqa: B018  (Django refuses an empty key on access)
