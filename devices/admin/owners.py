"""Admin of owners (their provisioning secret shown once, rotated) and measurement types."""

import datetime as dt

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from config.admin import copy_fields, secret_shown_once_response
from devices import selectors, services
from devices.admin.common import SendIntervalLimits
from devices.models import ConfigChange, Device, MeasurementType, Owner

OWNER_CREATE_FIELDS = ("name", "slug", "allow_secretless_registration", "default_send_interval", "default_qos")
MEASUREMENT_TYPE_FIELDS = ("slug", "name", "unit", "default_send_interval", "default_qos")


@admin.register(Owner)
class OwnerAdmin(SendIntervalLimits, admin.ModelAdmin):
    list_display = ("name", "slug", "allow_secretless_registration", "device_count", "secret_rotated_at")
    list_filter = ("allow_secretless_registration",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("secret_rotated_at", "previous_secret_valid_until", "created_at")

    def get_queryset(self, request):
        return selectors.owner_list_with_device_count()

    def get_fields(self, request, obj=None):
        if obj is None:
            return OWNER_CREATE_FIELDS
        return (*OWNER_CREATE_FIELDS, *self.readonly_fields)

    @admin.display(description="devices", ordering="device_count")
    def device_count(self, obj: Owner) -> str:
        url = f"{self._changelist_url(Device)}?owner__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.device_count)

    def _changelist_url(self, model) -> str:
        return reverse(f"{self.admin_site.name}:{model._meta.app_label}_{model._meta.model_name}_changelist")

    def save_model(self, request, obj, form, change):
        if change:
            changes = {name: form.cleaned_data[name] for name in form.changed_data if name in OWNER_CREATE_FIELDS}
            services.owner_update(owner=obj, changed_by=request.user, source=ConfigChange.Source.ADMIN, **changes)
            return
        owner, secret = services.owner_create(**{name: form.cleaned_data[name] for name in OWNER_CREATE_FIELDS})
        copy_fields(obj, owner)
        obj.provisioning_secret = secret

    def response_add(self, request, obj, post_url_continue=None):
        # Also in a popup: the secret exists only in this response.
        return secret_shown_once_response(
            request,
            self,
            obj,
            title=f"Owner “{obj}” created",
            secret_label="provisioning secret",
            secret=obj.provisioning_secret,
            usage="Devices of this owner send it in the X-Provisioning-Secret header when they register.",
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/rotate-secret/",
                self.admin_site.admin_view(self.rotate_secret_view),
                name=f"{self.opts.app_label}_{self.opts.model_name}_rotate_secret",
            ),
            *super().get_urls(),
        ]

    def rotate_secret_view(self, request: HttpRequest, object_id: str):
        owner = self.get_object(request, unquote(object_id))
        if owner is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, owner):
            raise PermissionDenied
        if request.method != "POST":
            context = {
                **self.admin_site.each_context(request),
                "title": "Rotate the provisioning secret?",
                "opts": self.opts,
                "object": owner,
                "grace_until": timezone.now() + dt.timedelta(seconds=settings.DEVICES_SECRET_ROTATION_GRACE_SECONDS),
            }
            return TemplateResponse(request, "admin/devices/owner/rotate_secret_confirm.html", context)
        secret = services.owner_rotate_secret(owner=owner)
        owner.refresh_from_db()
        self.log_change(request, owner, "Rotated the provisioning secret.")
        valid_until = timezone.localtime(owner.previous_secret_valid_until)
        return secret_shown_once_response(
            request,
            self,
            owner,
            title=f"New provisioning secret of “{owner}”",
            secret_label="provisioning secret",
            secret=secret,
            usage="Devices of this owner send it in the X-Provisioning-Secret header when they register.",
            note=f"The previous secret keeps working until {valid_until:%Y-%m-%d %H:%M %Z}, "
            "so devices can be re-flashed in the meantime.",
        )


@admin.register(MeasurementType)
class MeasurementTypeAdmin(SendIntervalLimits, admin.ModelAdmin):
    list_display = MEASUREMENT_TYPE_FIELDS
    fields = MEASUREMENT_TYPE_FIELDS
    search_fields = ("slug", "name")
    prepopulated_fields = {"slug": ("name",)}

    def save_model(self, request, obj, form, change):
        if not change:
            mtype = services.measurement_type_create(
                **{name: form.cleaned_data[name] for name in MEASUREMENT_TYPE_FIELDS}
            )
            copy_fields(obj, mtype)
            return
        # Through the service: a new slug moves the devices' topics (history, cache).
        services.measurement_type_update(
            measurement_type=obj,
            changed_by=request.user,
            source=ConfigChange.Source.ADMIN,
            **{name: form.cleaned_data[name] for name in form.changed_data},
        )
