"""Receivers of the secrets package, connected when this module is imported
(`IntegrationsConfig.ready`): every write to the settings table reaches every process's
settings store, and the settings declared in code get their rows after `migrate`."""

from django.db import connections
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from integrations.models import Setting
from integrations.secrets import services, settings_store


@receiver(post_save, sender=Setting, dispatch_uid="integrations.settings_changed.save")
@receiver(post_delete, sender=Setting, dispatch_uid="integrations.settings_changed.delete")
def _setting_saved(sender, **kwargs) -> None:
    settings_store.settings_changed()


def settings_sync_after_migrate(sender, using="default", **kwargs) -> None:
    """Connected with this app as sender in `IntegrationsConfig.ready` (post_migrate is sent
    once per app)."""
    # The table may not exist yet (migrating backwards, or to a plan without it).
    if using == "default" and Setting._meta.db_table in connections[using].introspection.table_names():
        services.settings_sync_known()
