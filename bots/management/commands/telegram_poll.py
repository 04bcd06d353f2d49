"""python manage.py telegram_poll: receive updates by long polling, for local development."""

from django.core.management.base import BaseCommand, CommandError

from bots.telegram import api, polling


class Command(BaseCommand):
    help = (
        "Receive the bot's updates with getUpdates instead of a webhook (no public HTTPS URL needed). "
        "They are handled as webhook updates are: the same inbox, Celery tasks and handlers. "
        "Telegram refuses polling while a webhook is set: `telegram_webhook delete` first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=int, default=30, help="Long-poll wait in seconds (default 30).")
        parser.add_argument("--once", action="store_true", help="One getUpdates call, then exit.")

    def handle(self, *args, timeout: int, once: bool, **options):
        if not 0 <= timeout <= 50:
            raise CommandError("--timeout must be between 0 and 50 seconds.")
        self.stdout.write("Polling Telegram; Ctrl-C stops.")
        try:
            count = polling.poll(
                timeout=timeout, once=once, on_update=lambda update_id: self.stdout.write(f"update {update_id}")
            )
        except api.TelegramCallFailed as exc:
            raise CommandError(f"Telegram: {exc.detail}") from None
        except KeyboardInterrupt:
            return
        self.stdout.write(f"{count} update(s) received.")
