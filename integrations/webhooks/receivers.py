"""Receivers of the webhooks package, connected when this module is imported
(`IntegrationsConfig.ready`): a change of an endpoint or of its secrets, made in this process,
clears this process's cache of receiving endpoints at once."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from integrations.models.webhooks import WebhookEndpoint, WebhookSecret
from integrations.webhooks import selectors


@receiver([post_save, post_delete], sender=WebhookEndpoint, dispatch_uid="webhooks.receiving_cache.endpoint")
@receiver([post_save, post_delete], sender=WebhookSecret, dispatch_uid="webhooks.receiving_cache.secret")
def _endpoint_changed(**kwargs) -> None:
    selectors.receiving_cache_clear()
