from rest_framework import permissions

from devices.api.authentication import DevicePrincipal


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


class CanChangeConfig(permissions.BasePermission):
    """Config changes need the model permission; a device may never change its own."""

    message = "You need the 'change config' permission to change a device's config."

    def has_permission(self, request, view):
        user = request.user
        if isinstance(user, DevicePrincipal) or not (user and user.is_authenticated):
            return False
        return user.has_perm("devices.change_deviceconfig")


class CanChangeOwner(permissions.BasePermission):
    message = "You need the 'change owner' permission to rotate its provisioning secret."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("devices.change_owner"))
