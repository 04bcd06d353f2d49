"""python manage.py telegram_webhook set|info|delete: the bot's webhook at Telegram."""

from django.core.management.base import BaseCommand, CommandError

from bots.telegram import api, webhook
from bots.telegram.updates import ALLOWED_UPDATES


class Command(BaseCommand):
    help = (
        "Point Telegram at this hub (set), show what Telegram knows of the webhook (info: pending updates, "
        "last error), or remove it (delete), e.g. before polling with telegram_poll."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        set_ = actions.add_parser("set", help="Set the webhook (creates the secret token if none is set).")
        where = set_.add_mutually_exclusive_group(required=True)
        where.add_argument("--base-url", help="The hub's public HTTPS base URL; the webhook path is appended.")
        where.add_argument("--url", help="The exact webhook URL.")
        set_.add_argument(
            "--allowed-updates",
            default=",".join(ALLOWED_UPDATES),
            help=f"Comma-separated update types (default: {','.join(ALLOWED_UPDATES)}).",
        )
        set_.add_argument("--drop-pending-updates", action="store_true", help="Forget updates Telegram holds.")
        set_.add_argument("--max-connections", type=int, help="1–100 simultaneous connections (Telegram: 40).")
        set_.add_argument("--rotate-secret", action="store_true", help="Generate a new secret token first.")
        actions.add_parser("info", help="Show getWebhookInfo (and record it for /health/).")
        delete = actions.add_parser("delete", help="Delete the webhook.")
        delete.add_argument("--drop-pending-updates", action="store_true", help="Forget updates Telegram holds.")

    def handle(self, *args, action: str, **options):
        try:
            {"set": self._set, "info": self._info, "delete": self._delete}[action](**options)
        except api.TelegramCallFailed as exc:
            raise CommandError(f"Telegram: {exc.detail}") from None

    def _set(self, *, base_url, url, allowed_updates, drop_pending_updates, max_connections, rotate_secret, **_):
        if max_connections is not None and not 1 <= max_connections <= 100:
            raise CommandError("--max-connections must be between 1 and 100.")
        target = url or webhook.webhook_url(base_url)
        if not target.startswith("https://"):
            raise CommandError("Telegram calls HTTPS URLs only; for local development use telegram_poll.")
        kinds = [kind.strip() for kind in allowed_updates.split(",") if kind.strip()]
        webhook.webhook_set(
            url=target,
            allowed_updates=kinds,
            drop_pending_updates=drop_pending_updates,
            max_connections=max_connections,
            rotate_secret=rotate_secret,
        )
        # The URL may carry the secret path segment: say where, not the segment.
        self.stdout.write(self.style.SUCCESS(f"Webhook set ({', '.join(kinds)})."))

    def _info(self, **_):
        info = webhook.webhook_info()
        webhook.webhook_check()
        self.stdout.write(f"url: {info.url or '(none)'}")
        self.stdout.write(f"pending updates: {info.pending_update_count}")
        self.stdout.write(f"max connections: {info.max_connections if info.max_connections is not None else '-'}")
        self.stdout.write(f"allowed updates: {', '.join(info.allowed_updates) or '(Telegram default)'}")
        if info.last_error_message:
            self.stdout.write(f"last error: {info.last_error_message} at {info.last_error_at:%Y-%m-%d %H:%M:%S %Z}")
        else:
            self.stdout.write("last error: none")

    def _delete(self, *, drop_pending_updates, **_):
        webhook.webhook_delete(drop_pending_updates=drop_pending_updates)
        self.stdout.write(self.style.SUCCESS("Webhook deleted."))
