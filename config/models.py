from django.conf import settings
from django.db import models

DEFAULT_TOKEN_NAME = "default"


class ChangeStamped(models.Model):
    """When a row last changed and who changed it (nobody: a device, a task or the shell).
    The services set ``updated_by`` (``config.services.model_update`` does)."""

    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        editable=False,
        related_name="+",
    )

    class Meta:
        abstract = True


class ApiToken(models.Model):
    """A management-API token of one user; only its HMAC digest is stored.

    One token per user and name: issuing a token under a name the user already has replaces
    (revokes) that token, so logging in again does not pile up tokens.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(
        max_length=100,
        default=DEFAULT_TOKEN_NAME,
        help_text="What the token is for (a script, a machine). A user has one token per name: issuing "
        "a token under a name they already have revokes that token.",
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False, help_text="First characters, to tell tokens apart.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="apitoken_one_per_user_and_name")]

    def __str__(self):
        return f"{self.user} · {self.name} · {self.prefix}…"
