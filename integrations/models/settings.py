from django.core.validators import RegexValidator
from django.db import models

from config.models import ChangeStamped

__all__ = ["Setting", "SETTING_KEY", "SETTING_KEY_MESSAGE", "SETTING_KEY_PATTERN", "setting_is_secret"]

# The one rule for a setting's key (the model, the API's URLs, the services, declarations).
SETTING_KEY = r"[A-Z][A-Z0-9_]{0,99}"
SETTING_KEY_PATTERN = rf"^{SETTING_KEY}$"
SETTING_KEY_MESSAGE = "Use upper-case letters, digits and underscores."


def setting_is_secret(*, type_: str, marked_secret: bool) -> bool:
    """A setting is secret when marked so, or when its type is `secret`."""
    return marked_secret or type_ == "secret"


class Setting(ChangeStamped):
    """A typed integration setting stored in the database (tokens, URLs, parameters).

    Read it with `integrations.secrets.settings_store.setting_get(key)`, write it with the services.
    A secret's value lives only in `value_encrypted` (Fernet); `value` holds the text form of
    a non-secret value. Both empty = no value in the database: the environment variable of the
    same name, then the declared default, apply.
    """

    class Type(models.TextChoices):
        STR = "str", "text"
        INT = "int", "whole number"
        FLOAT = "float", "number"
        BOOL = "bool", "yes / no"
        URL = "url", "URL"
        JSON = "json", "JSON"
        SECRET = "secret", "secret text"

    key = models.CharField(
        max_length=100,
        unique=True,
        validators=[RegexValidator(SETTING_KEY_PATTERN, SETTING_KEY_MESSAGE)],
        help_text="Also the name of the environment variable used when no value is stored.",
    )
    type = models.CharField(max_length=8, choices=Type.choices, default=Type.STR)
    description = models.TextField(blank=True)
    is_secret = models.BooleanField(
        default=False, help_text="Encrypted at rest, never shown again after saving, never logged."
    )
    # NULL = no value stored (the environment or the default applies); "" is a valid text value.
    value = models.TextField(null=True, blank=True, editable=False)  # noqa: DJ001
    value_encrypted = models.TextField(blank=True, default="", editable=False)

    class Meta:
        ordering = ["key"]
        verbose_name = "integration setting"

    def __str__(self):
        return self.key

    @property
    def has_value(self) -> bool:
        """Whether the database holds a value (else the environment or the default applies)."""
        return bool(self.value_encrypted) if self.is_secret else self.value is not None
