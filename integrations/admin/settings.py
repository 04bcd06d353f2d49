"""Admin of the integration settings: typed values, secrets masked and never sent back.

Every write goes through `integrations.secrets.services` (validation, encryption, the version stamp
that makes every process reload). Settings declared in code are listed even before a value is
stored; their key, type, secrecy and description come from code and are read-only here.
"""

from django import forms
from django.contrib import admin, messages
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.debug import sensitive_post_parameters

from config.admin import copy_fields
from integrations.models import Setting, setting_is_secret
from integrations.secrets import services, settings_store

_SOURCE_LABELS = {"database": "database", "environment": "environment variable", "default": "declared default"}


class SettingForm(forms.ModelForm):
    value_input = forms.CharField(label="Value", required=False, strip=False)
    clear_value = forms.BooleanField(
        label="Remove the stored value",
        required=False,
        help_text="The environment variable of the same name, then the declared default, apply again.",
    )

    class Meta:
        model = Setting
        fields = ["key", "type", "is_secret", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.new_value = services.UNCHANGED
        setting = self.instance
        if "value_input" not in self.fields:
            return
        field = self.fields["value_input"]
        if setting.pk is not None:
            field.label = "New value"  # beside the read-only "Current value"
        if setting.pk is None:
            # The secrecy of a new setting is not known until the form is posted: never echo it.
            field.widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
            field.help_text = "Hidden while you type. Empty = no stored value."
            return
        type_ = settings_store.setting_type_of(setting.key, setting.type)
        if setting_is_secret(type_=type_, marked_secret=setting.is_secret):
            field.widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
            field.help_text = (
                "Stored encrypted and never shown again. Leave empty to keep the stored value."
                if setting.has_value
                else "Stored encrypted and never shown again."
            )
            return
        if type_ == "json":
            field.widget = forms.Textarea(attrs={"rows": 6, "cols": 80})
        field.initial = setting.value if setting.has_value else ""
        field.help_text = {
            "int": "A whole number.",
            "float": "A number.",
            "bool": "true or false (yes/no, on/off, 1/0).",
            "url": "An http(s) URL.",
            "json": "A JSON value.",
        }.get(type_, "") + " Empty = no stored value."

    def clean(self):
        cleaned = super().clean()
        setting = self.instance
        adding = setting.pk is None
        key = cleaned.get("key", setting.key) if adding else setting.key
        if adding and key in settings_store.KNOWN_SETTINGS:
            self.add_error("key", f"{key} is declared in code and already listed; set its value there.")
            return cleaned
        row_type = cleaned.get("type", setting.type) if adding else setting.type
        type_ = settings_store.setting_type_of(key or "", row_type or "str")
        secret = setting_is_secret(
            type_=type_, marked_secret=cleaned.get("is_secret", False) if adding else setting.is_secret
        )
        raw = cleaned.get("value_input", "")
        if cleaned.get("clear_value"):
            self.new_value = None
        elif raw == "":
            # An empty secret input keeps the stored secret (it is never sent to the browser).
            if not secret and (adding or "value_input" in self.changed_data):
                self.new_value = None
        elif adding or secret or "value_input" in self.changed_data:
            try:
                self.new_value = settings_store.value_clean(type_, raw, key=key or "value", secret=secret)
            except settings_store.SettingInvalid as exc:
                self.add_error("value_input", exc.detail)
        return cleaned


class StoredValueFilter(admin.SimpleListFilter):
    title = "value in the database"
    parameter_name = "stored"

    def lookups(self, request, model_admin):
        return [("yes", "stored"), ("no", "not stored")]

    def queryset(self, request, queryset):
        stored = queryset.filter(is_secret=True).exclude(value_encrypted="") | queryset.filter(
            is_secret=False, value__isnull=False
        )
        if self.value() == "yes":
            return stored
        if self.value() == "no":
            return queryset.exclude(pk__in=stored.values("pk"))
        return queryset


@admin.register(Setting)
class SettingAdmin(admin.ModelAdmin):
    form = SettingForm
    list_display = ("key", "type", "value_shown", "source_shown", "is_secret", "updated_at", "updated_by")
    list_filter = (StoredValueFilter, "is_secret", "type")
    list_select_related = ("updated_by",)
    search_fields = ("key", "description")
    actions = ["remove_stored_values"]

    @method_decorator(sensitive_post_parameters("value_input"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Error reports must not carry the secret the form was posting.
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("key", "type", "is_secret", "description", "value_input")
        spec = settings_store.KNOWN_SETTINGS.get(obj.key)
        # A superuser-only setting shows its value to the others, without the inputs to change it.
        inputs = (
            () if spec and spec.superuser_only and not request.user.is_superuser else ("value_input", "clear_value")
        )
        return (
            "key",
            "type",
            "is_secret",
            "description",
            "current_value",
            "source_shown",
            "default_shown",
            *inputs,
            "updated_at",
            "updated_by",
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        shown = ("current_value", "source_shown", "default_shown", "updated_at", "updated_by")
        if obj.key in settings_store.KNOWN_SETTINGS:
            return ("key", "type", "is_secret", "description", *shown)
        return ("key", "type", "is_secret", *shown)

    def changelist_view(self, request, extra_context=None):
        # Settings declared in code since the last migrate get their row before being listed.
        services.settings_sync_known()
        return super().changelist_view(request, extra_context)

    def _state(self, obj: Setting) -> settings_store.SettingPublicState:
        if not hasattr(obj, "_public_state"):
            obj._public_state = settings_store.setting_public_state(obj)
        return obj._public_state

    @admin.display(description="value")
    def value_shown(self, obj: Setting):
        state = self._state(obj)
        if state.error:
            return format_html('<span class="errornote">{}</span>', state.error)
        if state.value is None:
            return "—"
        type_ = settings_store.setting_type_of(obj.key, obj.type)
        if setting_is_secret(type_=type_, marked_secret=obj.is_secret):
            return state.value
        return settings_store.value_to_text(type_, state.value)

    @admin.display(description="current value")
    def current_value(self, obj: Setting):
        return self.value_shown(obj)

    @admin.display(description="from")
    def source_shown(self, obj: Setting) -> str:
        return _SOURCE_LABELS.get(self._state(obj).source, "not set")

    @admin.display(description="declared default")
    def default_shown(self, obj: Setting) -> str:
        spec = settings_store.KNOWN_SETTINGS.get(obj.key)
        if spec is None:
            return "(not declared in code)"
        if spec.default is None:
            return "—"
        text = settings_store.value_to_text(spec.type, spec.default)
        return "••••••" if spec.secret else text

    def save_model(self, request, obj, form, change):
        if change:
            editable_description = obj.key not in settings_store.KNOWN_SETTINGS
            setting = services.setting_update(
                setting=obj,
                value=form.new_value,
                updated_by=request.user,
                description=form.cleaned_data.get("description") if editable_description else None,
            )
        else:
            value = None if form.new_value is services.UNCHANGED else form.new_value
            setting = services.setting_create(
                key=form.cleaned_data["key"],
                type=form.cleaned_data["type"],
                description=form.cleaned_data.get("description", ""),
                is_secret=form.cleaned_data.get("is_secret", False),
                value=value,
                updated_by=request.user,
            )
        copy_fields(obj, setting)

    def delete_model(self, request, obj):
        services.setting_delete(setting=obj)

    def delete_queryset(self, request, queryset):
        for setting in queryset:
            services.setting_delete(setting=setting)

    @admin.action(description="Remove the stored values (environment or default apply)", permissions=["change"])
    def remove_stored_values(self, request, queryset):
        count = 0
        for setting in queryset:
            if setting.has_value:
                services.setting_update(setting=setting, value=None, updated_by=request.user)
                count += 1
        self.message_user(request, f"Removed {count} stored value(s).", messages.SUCCESS)
