from django.core.validators import RegexValidator
from django.db import models

from config.models import ChangeStamped

__all__ = ["Credential", "PROVIDER_PATTERN"]

PROVIDER_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


class Credential(ChangeStamped):
    """How to authenticate to one provider, for one owner or (owner empty) for everyone.

    Resolve it with `integrations.secrets.selectors.credential_resolve(provider=..., owner=...)`:
    the owner's credential wins over the global one. The secret part (API key, token or
    password) is stored only encrypted.
    """

    class Strategy(models.TextChoices):
        API_KEY = "api_key", "API key"
        BEARER = "bearer", "bearer token"
        BASIC = "basic", "basic auth"

    class Placement(models.TextChoices):
        HEADER = "header", "HTTP header"
        QUERY = "query", "query parameter"

    provider = models.CharField(
        max_length=64,
        db_index=True,
        validators=[RegexValidator(PROVIDER_PATTERN, "Use lower-case letters, digits, '.', '_' or '-'.")],
        help_text="Provider id, e.g. openweathermap, github, telegram.",
    )
    owner = models.ForeignKey(
        "devices.Owner",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="integration_credentials",
        help_text="Empty = the global default for every owner without its own credential.",
    )
    name = models.CharField(max_length=100, blank=True, help_text="A label for people, e.g. which account.")
    strategy = models.CharField(max_length=16, choices=Strategy.choices)
    api_key_in = models.CharField(
        "API key goes in",
        max_length=8,
        choices=Placement.choices,
        blank=True,
        help_text="API key strategy only.",
    )
    api_key_name = models.CharField(
        "API key header / parameter name",
        max_length=100,
        blank=True,
        help_text="API key strategy only, e.g. X-API-Key (header) or appid (query parameter).",
    )
    username = models.CharField(max_length=200, blank=True, help_text="Basic auth only.")
    secret_encrypted = models.TextField(editable=False)
    secret_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    needs_attention = models.BooleanField(
        default=False, editable=False, help_text="The provider refused this credential (401/403)."
    )
    attention_reason = models.CharField(max_length=500, blank=True, editable=False)
    attention_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["provider", "owner_id"]
        verbose_name = "integration credential"
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "owner"],
                name="integrations_credential_one_per_owner",
                violation_error_message="This owner already has a credential for this provider.",
            ),
            # NULLs are distinct in a plain unique constraint: one global default per provider.
            models.UniqueConstraint(
                fields=["provider"],
                condition=models.Q(owner__isnull=True),
                name="integrations_credential_one_global",
                violation_error_message="There is already a global credential for this provider.",
            ),
        ]

    def __str__(self):
        scope = self.owner.slug if self.owner_id else "global"
        return f"{self.provider} ({scope})"
