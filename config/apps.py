from django.apps import AppConfig


class SwitchboardConfig(AppConfig):
    """Project-wide pieces that belong to no single domain app: API tokens, health, errors."""

    name = "config"
    label = "switchboard"
    verbose_name = "Switchboard"
    default_auto_field = "django.db.models.BigAutoField"
