"""Admin of the device event outbox: read-only."""

from django.contrib import admin

from devices.models import (
    DeviceEvent,
)


@admin.register(DeviceEvent)
class DeviceEventAdmin(admin.ModelAdmin):
    list_display = ("kind", "device_ref", "created_at", "dispatched_at")
    list_filter = ("kind",)
    search_fields = ("=device__device_id",)
    show_full_result_count = False
    fields = ("id", "kind", "device", "payload", "created_at", "dispatched_at")
    readonly_fields = fields

    @admin.display(description="device", ordering="device")
    def device_ref(self, obj: DeviceEvent) -> str:
        return obj.device_id or "—"  # the id itself, no join

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
