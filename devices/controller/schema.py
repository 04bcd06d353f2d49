"""OpenAPI description of the device key's authentication scheme (a drf-spectacular extension)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class DeviceKeyScheme(OpenApiAuthenticationExtension):
    target_class = "devices.controller.authentication.DeviceKeyAuthentication"
    name = "deviceKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Device <device_key>`: the key returned by registration, valid for that device only.",
        }
