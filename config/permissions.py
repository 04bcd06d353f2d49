from rest_framework import permissions
from rest_framework.permissions import DjangoModelPermissions


def user_with_permission(perm: str, message: str | None = None) -> type[permissions.BasePermission]:
    """A DRF permission class: an authenticated user who holds ``perm`` (a device never does:
    its principal has no permissions). ``message`` is what a refused caller reads (None: DRF's
    "You do not have permission to perform this action.")."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(perm))

    attributes = {"has_permission": has_permission, "__doc__": f"An authenticated user with {perm}."}
    if message is not None:
        attributes["message"] = message
    return type(f"UserWithPermission[{perm}]", (permissions.BasePermission,), attributes)


class ModelPermissions(DjangoModelPermissions):
    """Django model permissions, reads included: listing devices needs 'view device'."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }
