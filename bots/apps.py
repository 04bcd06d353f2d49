from django.apps import AppConfig


class BotsConfig(AppConfig):
    name = "bots"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from bots.models import BotUser
        from bots.notifications import receivers  # noqa: F401  (connects the device-event receiver)
        from bots.notifications.senders import sender_register
        from bots.telegram.notifier import TelegramSender

        sender_register(BotUser.Platform.TELEGRAM, TelegramSender())
