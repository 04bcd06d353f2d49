from config.permissions import user_with_permission


class CanChangeOwner(user_with_permission("devices.change_owner")):
    message = "You need the 'change owner' permission to rotate its provisioning secret."
