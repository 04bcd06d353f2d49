from django.apps import AppConfig


class SwitchboardConfig(AppConfig):
    """Project-wide pieces that belong to no single domain app: API tokens, health, errors, the
    login throttle."""

    name = "config"
    label = "switchboard"
    verbose_name = "Switchboard"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from config import login_throttle  # noqa: F401  (logs login lockouts)
