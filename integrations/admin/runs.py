"""Admin of integration runs: read-only (runs are written by `integrations.runs` only), filtered
by integration, status and trigger."""

from django.contrib import admin

from integrations.models import IntegrationRun
from integrations.outbound import outbound_cache_clear
from integrations.registry import registry


class IntegrationFilter(admin.SimpleListFilter):
    title = "integration"
    parameter_name = "integration"

    def lookups(self, request, model_admin):
        # The registered integrations, plus any the runs name that no longer exist.
        ran = IntegrationRun.objects.values_list("integration_id", flat=True).distinct().order_by()
        ids = sorted(set(registry.ids()) | set(ran))
        return [(integration_id, integration_id) for integration_id in ids]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(integration_id=self.value())
        return queryset


@admin.register(IntegrationRun)
class IntegrationRunAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "integration_id",
        "integration_version",
        "status",
        "trigger",
        "owner",
        "duration_ms",
        "attempts",
        "error_code",
    )
    list_filter = (IntegrationFilter, "status", "trigger", "connection")
    actions = ["clear_cached_answers"]
    search_fields = ("=id", "integration_id", "error_code", "owner__slug")
    date_hierarchy = "created_at"
    list_select_related = ("owner",)
    ordering = ("-created_at",)
    fields = (
        "id",
        "integration_id",
        "integration_version",
        "status",
        "trigger",
        "owner",
        "requested_by",
        "created_at",
        "started_at",
        "finished_at",
        "duration_ms",
        "attempts",
        "error_code",
        "error_message",
        "source",
        "result_summary",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Clear the cached answers of these runs' services", permissions=["clear_outbound_cache"])
    def clear_cached_answers(self, request, queryset):
        ids = queryset.order_by().values_list("integration_id", flat=True).distinct()
        services = sorted({integration_id.split(".", 1)[0] for integration_id in ids})
        for service in services:
            outbound_cache_clear(integration=service)
        self.message_user(request, f"Cleared the cached answers of: {', '.join(services)}.")

    def has_clear_outbound_cache_permission(self, request):
        return request.user.has_perm("integrations.clear_outbound_cache")
