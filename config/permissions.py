from rest_framework import permissions
from rest_framework.permissions import DjangoModelPermissions


def user_with_permission(perm: str) -> type[permissions.BasePermission]:
    """A DRF permission class: an authenticated user (not a device) who holds ``perm``."""

    class UserWithPermission(permissions.BasePermission):
        message = None  # DRF's default: "You do not have permission to perform this action."

        def has_permission(self, request, view):
            user = request.user
            return bool(user and user.is_authenticated and user.has_perm(perm))

    UserWithPermission.__name__ = UserWithPermission.__qualname__ = f"UserWithPermission[{perm}]"
    return UserWithPermission


class ModelPermissions(DjangoModelPermissions):
    """Django model permissions, reads included: listing devices needs 'view device'."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }
