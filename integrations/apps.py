from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IntegrationsConfig(AppConfig):
    name = "integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # secrets: the encryption-key system check (on import of crypto), the settings store's
        # invalidation on every settings write, and rows for the settings declared in code.
        from integrations.secrets import crypto, receivers  # noqa: F401

        post_migrate.connect(
            receivers.settings_sync_after_migrate, sender=self, dispatch_uid="integrations.settings_sync"
        )

        # registry: import every module under integrations/providers/; the system checks.
        from integrations import registry
        from integrations.registry import checks  # noqa: F401
        from integrations.runs import checks as run_checks  # noqa: F401

        registry.autodiscover()

        # webhooks: endpoint changes clear the receiving cache.
        # connections: device and webhook events → integration runs.
        from integrations.connections import receivers as connection_receivers  # noqa: F401
        from integrations.webhooks import receivers as webhook_receivers  # noqa: F401
