from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "devices"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from devices import receivers  # noqa: F401  (connects the signal receivers)
        from devices.api import schema  # noqa: F401  (the API token's OpenAPI scheme)
        from devices.controller import schema as controller_schema  # noqa: F401  (the device key's scheme)
