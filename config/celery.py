import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("switchboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
# `<app>.tasks` of every installed app, and the task modules of the integrations and bots packages.
app.autodiscover_tasks()
app.autodiscover_tasks(["integrations.runs", "integrations.webhooks", "bots.telegram", "bots.notifications"])


@signals.worker_init.connect
@signals.beat_init.connect
def _refuse_to_start_without_secrets(**kwargs):
    """A worker or beat refuses a missing or placeholder key, as the HTTP servers do (Celery
    logs and swallows a receiver's exception: only SystemExit stops it)."""
    from django.core.exceptions import ImproperlyConfigured

    from config.startup import require_secrets

    try:
        require_secrets()
    except ImproperlyConfigured as exc:
        raise SystemExit(f"Refusing to start: {exc}") from None
