from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _settings_sync_after_migrate(sender, using="default", **kwargs) -> None:
    from django.db import connections

    from integrations import services
    from integrations.models import Setting

    # The table may not exist yet (migrating backwards, or to a plan without it).
    if using == "default" and Setting._meta.db_table in connections[using].introspection.table_names():
        services.settings_sync_known()


class IntegrationsConfig(AppConfig):
    name = "integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # settings and credentials: the encryption-key system check, cache invalidation on
        # every settings write, and rows for the settings declared in code.
        from integrations import crypto, settings_store  # noqa: F401

        settings_store.connect_signals()
        post_migrate.connect(_settings_sync_after_migrate, sender=self, dispatch_uid="integrations.settings_sync")

        # registry: import every module under integrations/providers/, and its system check.
        from integrations import checks, registry  # noqa: F401

        registry.autodiscover()

        # connections: device and webhook events → integration runs.
        from integrations import connections  # noqa: F401
