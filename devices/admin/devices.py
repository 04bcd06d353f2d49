"""Admin of devices: the changelist, the config inline saved through the service, the history,
bulk actions confirmed first, and the CSV export."""

import csv

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_permission_codename
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Concat
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from devices import selectors, services
from devices.admin.common import SEND_INTERVAL_HELP, SendIntervalLimits, devices_counted
from devices.models import (
    QOS_CHOICES,
    SEND_INTERVAL_MAX,
    SEND_INTERVAL_MIN,
    ConfigChange,
    Device,
    DeviceConfig,
)

HISTORY_LIMIT = 20
CSV_CHUNK_SIZE = 2000
# Cells starting with these are formulas to a spreadsheet; city and sensor model come from devices.
_CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _can_see_device(request: HttpRequest) -> bool:
    return request.user.has_perm("devices.view_device") or request.user.has_perm("devices.change_device")


class DeviceConfigInline(SendIntervalLimits, admin.StackedInline):
    """The config, edited in place; `DeviceAdmin.save_formset` saves it through the service."""

    model = DeviceConfig
    can_delete = False
    extra = 0
    max_num = 1
    fields = ("send_interval", "qos", "version", "applied_version", "applied_at", "updated_at", "updated_by")
    readonly_fields = ("version", "applied_version", "applied_at", "updated_at", "updated_by")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("updated_by")

    def has_add_permission(self, request, obj=None):
        return False  # created with the device at registration

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or _can_see_device(request)


class _LatestChangesFormSet(BaseInlineFormSet):
    def get_queryset(self):
        if not hasattr(self, "_latest"):
            self._latest = super().get_queryset()[:HISTORY_LIMIT]
            len(self._latest)  # evaluate once; the formset indexes into it per form
        return self._latest


class HistoryInline(admin.TabularInline):
    """The device's one history: config changes from every path (this page, bulk actions, the
    APIs) and the moves of its topics."""

    model = ConfigChange
    formset = _LatestChangesFormSet
    verbose_name = "history entry"
    verbose_name_plural = f"History (latest {HISTORY_LIMIT}, newest first)"
    fields = ("changed_at", "kind", "version_display", "changed_by_display", "source", "old_to_new")
    readonly_fields = fields
    can_delete = False
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by").order_by("-changed_at", "-id")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return _can_see_device(request)

    @admin.display(description="changed by")
    def changed_by_display(self, obj: ConfigChange) -> str:
        # A chat bot's user is no user of the hub: the entry names them instead.
        return obj.actor or (str(obj.changed_by) if obj.changed_by else "—")

    @admin.display(description="config version")
    def version_display(self, obj: ConfigChange):
        return obj.version if obj.version is not None else "—"

    @admin.display(description="old → new")
    def old_to_new(self, obj: ConfigChange) -> str:
        keys = [key for key in obj.new if obj.old.get(key) != obj.new[key]] or list(obj.new)
        parts = [
            f"{key}: {obj.old[key]} → {obj.new[key]}" if key in obj.old else f"{key}: {obj.new[key]}" for key in keys
        ]
        return ", ".join(parts)


# Sorting the status column: online before offline, inactive devices last.
_STATUS_ORDER = Case(When(is_active=False, then=Value(2)), When(is_online=False, then=Value(1)), default=Value(0))


class ConfigStatusFilter(admin.SimpleListFilter):
    title = "config"
    parameter_name = "config_status"

    def lookups(self, request, model_admin):
        return [("applied", "Applied"), ("pending", "Pending")]

    def queryset(self, request, queryset):
        # A device only ever reports a version it was given, so applied <= version.
        if self.value() == "applied":
            return queryset.filter(config__applied_version=F("config__version"))
        if self.value() == "pending":
            return queryset.filter(
                Q(config__applied_version__isnull=True) | Q(config__applied_version__lt=F("config__version"))
            )
        return queryset


class SendIntervalForm(forms.Form):
    send_interval = forms.IntegerField(
        label="Send interval (seconds)",
        min_value=SEND_INTERVAL_MIN,
        max_value=SEND_INTERVAL_MAX,
        help_text=SEND_INTERVAL_HELP,
    )


class QosForm(forms.Form):
    # No preselected level: a browser would otherwise submit the first one, QoS 0.
    qos = forms.TypedChoiceField(label="MQTT QoS", choices=[("", "---------"), *QOS_CHOICES], coerce=int)


class _Echo:
    """csv.writer target that hands each formatted line back instead of buffering it."""

    def write(self, value: str) -> str:
        return value


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_CSV_FORMULA_PREFIXES):
        return "'" + value
    return str(value)


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    # Fits a 1366 px laptop screen beside the admin's two sidebars: owner and type as display
    # columns (Django keeps foreign-key and date cells on one line), one status and one config
    # column; every column a sysadmin sorts by still sorts, every filter is in the sidebar.
    list_display = ("device_id", "owner_name", "city", "sensor", "last_seen_at", "status", "config_state")
    list_select_related = ("owner", "measurement_type", "config")
    list_filter = ("owner", "measurement_type", "is_active", "is_online", ConfigStatusFilter)
    # Shows the search box; `get_search_results` does the searching, not these fields.
    search_fields = ("device_id",)
    search_help_text = "Device id, MAC address (any notation), city or its topic slug, sensor model."
    # A second COUNT(*) over the whole fleet on every page view buys nothing.
    show_full_result_count = False
    readonly_fields = (
        "device_id",
        "mac_address",
        "topics_display",
        "location_display",
        "created_at",
        "updated_at",
        "last_seen",
        "is_online",
    )
    fieldsets = (
        (None, {"fields": ("device_id", "mac_address", "owner", "measurement_type", "sensor_model", "is_active")}),
        ("Location", {"fields": ("city", "location_display", "latitude", "longitude", "height")}),
        ("Topics", {"fields": ("topics_display",)}),
        ("Timestamps", {"fields": ("created_at", "updated_at", "last_seen", "is_online")}),
    )
    inlines = (DeviceConfigInline, HistoryInline)
    actions = ("set_send_interval", "set_qos", "deactivate", "activate", "export_csv")

    def get_queryset(self, request):
        # The change page shows topics, derived from the owner and measurement type slugs.
        return super().get_queryset(request).select_related("owner", "measurement_type", "config")

    def has_add_permission(self, request):
        return False  # devices register themselves through the API, which derives their id

    def has_change_config_permission(self, request: HttpRequest) -> bool:
        codename = get_permission_codename("change", DeviceConfig._meta)
        return request.user.has_perm(f"{DeviceConfig._meta.app_label}.{codename}")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "owner" and formfield is not None:
            # A new owner's provisioning secret is shown on its own page, not in a popup.
            formfield.widget.can_add_related = False
        return formfield

    # ---- columns and read-only fields

    @admin.display(description="owner", ordering="owner__name")
    def owner_name(self, obj: Device) -> str:
        return obj.owner.name

    @admin.display(description="sensor", ordering=Concat("measurement_type__name", Value(" "), "sensor_model"))
    def sensor(self, obj: Device) -> str:
        if not obj.sensor_model:
            return obj.measurement_type.name
        return format_html('{}<br><span class="quiet">{}</span>', obj.measurement_type.name, obj.sensor_model)

    @admin.display(description="last seen", ordering="last_seen")
    def last_seen_at(self, obj: Device) -> str:
        if obj.last_seen is None:
            return "never"
        seen = timezone.localtime(obj.last_seen)
        return format_html('<time datetime="{}">{} {}</time>', seen.isoformat(), f"{seen:%Y-%m-%d}", f"{seen:%H:%M}")

    @admin.display(description="status", ordering=_STATUS_ORDER)
    def status(self, obj: Device) -> str:
        online = "online" if obj.is_online else "offline"
        if obj.is_active:
            return online
        return format_html('{}<br><span class="quiet">inactive</span>', online)

    @admin.display(description="config", ordering="config__version")
    def config_state(self, obj: Device) -> str:
        config = getattr(obj, "config", None)
        if config is None:
            return "—"
        if config.is_applied:
            return format_html('<span class="nowrap">v{} applied</span>', config.version)
        reported = f"device on v{config.applied_version}" if config.applied_version else "none applied"
        return format_html(
            '<span class="nowrap">v{} pending</span><br><span class="quiet nowrap">{}</span>', config.version, reported
        )

    @admin.display(description="location")
    def location_display(self, obj: Device) -> str:
        if not obj.location_known:
            return "unknown"
        return f"{obj.latitude}, {obj.longitude}"

    @admin.display(description="topics")
    def topics_display(self, obj: Device) -> str:
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><th>{}</th><td><code>{}</code></td></tr>", obj.topics.items()),
        )

    # ---- search: the same selector as the management API's ?search=

    def get_search_results(self, request, queryset, search_term):
        return selectors.device_search(devices=queryset, search=search_term), False

    # ---- saving through the services

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        if changes:
            services.device_update(device=obj, changed_by=request.user, source=ConfigChange.Source.ADMIN, **changes)

    def save_formset(self, request, form, formset, change):
        # The admin's change message reads these; the inlines never save themselves.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if formset.model is not DeviceConfig or not self.has_change_config_permission(request):
            return
        for config_form in formset.initial_forms:
            changed = [name for name in ("send_interval", "qos") if name in config_form.changed_data]
            if not changed:
                continue
            config = services.config_update(
                device=formset.instance,
                changed_by=request.user,
                source=ConfigChange.Source.ADMIN,
                **{name: config_form.cleaned_data[name] for name in changed},
            )
            formset.changed_objects.append((config, changed))

    def delete_model(self, request, obj):
        services.device_delete(device=obj)

    def delete_queryset(self, request, queryset):
        services.devices_delete(device_ids=list(queryset.values_list("device_id", flat=True)))

    # ---- bulk actions

    @admin.action(description="Set send interval…", permissions=["change_config"])
    def set_send_interval(self, request, queryset):
        return self._bulk_config(
            request,
            queryset,
            form_class=SendIntervalForm,
            action="set_send_interval",
            title="Set the send interval",
            describe=lambda data: f"Send interval set to {data['send_interval']} s",
        )

    @admin.action(description="Set QoS…", permissions=["change_config"])
    def set_qos(self, request, queryset):
        return self._bulk_config(
            request,
            queryset,
            form_class=QosForm,
            action="set_qos",
            title="Set the MQTT QoS",
            describe=lambda data: f"QoS set to {data['qos']}",
        )

    def _bulk_config(self, request, queryset, *, form_class, action, title, describe):
        """First call: the form page. Second call (the form posted back with `apply`): the
        change, through the same service as the API, then back to the changelist."""
        applying = "apply" in request.POST
        form = form_class(request.POST if applying else None)
        if applying and form.is_valid():
            device_ids = list(queryset.values_list("device_id", flat=True))
            changed = services.configs_bulk_update(device_ids=device_ids, changed_by=request.user, **form.cleaned_data)
            unchanged = len(device_ids) - changed
            message = f"{describe(form.cleaned_data)}: {devices_counted(changed)} changed"
            if unchanged:
                message += f", {unchanged} already had it"
            self.message_user(request, message + ".", messages.SUCCESS)
            return None
        return self._bulk_page(
            request,
            queryset,
            action=action,
            title=title,
            form=form,
            explanation="Each config that changes gets a new version and an entry in its history; devices pick "
            "it up at their next config fetch.",
            submit_label="Apply to",
        )

    @admin.action(description="Deactivate selected devices…", permissions=["change"])
    def deactivate(self, request, queryset):
        return self._bulk_set_active(request, queryset, is_active=False)

    @admin.action(description="Activate selected devices…", permissions=["change"])
    def activate(self, request, queryset):
        return self._bulk_set_active(request, queryset, is_active=True)

    def _bulk_set_active(self, request, queryset, *, is_active: bool):
        """First call: what it will do to how many devices. Second (confirmed with `apply`): the
        change, through the services, then back to the changelist."""
        verb, state = ("Activate", "active") if is_active else ("Deactivate", "inactive")
        if "apply" in request.POST:
            device_ids = list(queryset.values_list("device_id", flat=True))
            service = services.devices_activate if is_active else services.devices_deactivate
            changed = service(device_ids=device_ids)
            unchanged = len(device_ids) - changed
            message = f"{verb}d {devices_counted(changed)}"
            if unchanged:
                message += f", {unchanged} already {state}"
            self.message_user(request, message + ".", messages.SUCCESS)
            return None
        unchanged = queryset.filter(is_active=is_active).count()
        return self._bulk_page(
            request,
            queryset,
            action=verb.lower(),
            title=f"{verb} devices",
            explanation=(
                "They may fetch their topics and config and register again."
                if is_active
                else "Their calls (topics, config, applied reports) and registrations are refused until "
                "they are activated again; their settings and history stay."
            ),
            note=f"Of these, {unchanged} {'is' if unchanged == 1 else 'are'} {state} already." if unchanged else "",
            submit_label=verb,
        )

    def _bulk_page(self, request, queryset, *, action, title, explanation, submit_label, form=None, note=""):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "form": form,
            "explanation": explanation,
            "note": note,
            "submit_label": submit_label,
            "action": action,
            "device_count": queryset.count(),
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "changelist_url": request.get_full_path(),
        }
        return TemplateResponse(request, "admin/devices/device/bulk_action.html", context)

    @admin.action(description="Export selected devices as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        header = [name for name, _ in selectors.DEVICE_EXPORT_COLUMNS]
        rows = selectors.device_export_rows(devices=queryset).iterator(chunk_size=CSV_CHUNK_SIZE)
        writer = csv.writer(_Echo())

        def lines():
            yield writer.writerow(header)
            for row in rows:
                yield writer.writerow([_csv_cell(value) for value in row])

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="devices-{timezone.now():%Y%m%d-%H%M%S}.csv"'
        return response
