from rest_framework import permissions

from config.permissions import user_with_permission
from devices.controller.authentication import DevicePrincipal


class IsTheDeviceOrStaff(permissions.BasePermission):
    """The device itself (its key, checked against the URL's device) or a staff user."""

    message = "Authenticate as this device (Authorization: Device <device_key>) or as staff."

    def has_permission(self, request, view):
        user = request.user
        if isinstance(user, DevicePrincipal):
            return True
        return bool(user and user.is_authenticated and user.is_staff)


class IsTheDevice(permissions.BasePermission):
    message = "Only the device itself may report this (Authorization: Device <device_key>)."

    def has_permission(self, request, view):
        return isinstance(request.user, DevicePrincipal)


class CanChangeConfig(user_with_permission("devices.change_deviceconfig")):
    """Config changes need the model permission; a device may never change its own (it holds no
    permission)."""

    message = "You need the 'change config' permission to change a device's config."
