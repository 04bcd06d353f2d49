"""Admin of provider credentials: secrets write-only, refused credentials flagged for attention.

Every write goes through `integrations.secrets.services`; the attention flag is set by the outbound
layer when a provider answers 401/403, and cleared here or by saving a new secret.
"""

from django import forms
from django.contrib import admin, messages
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.debug import sensitive_post_parameters

from config.admin import copy_fields
from config.errors import DomainError
from integrations.models import Credential
from integrations.registry import registry
from integrations.secrets import crypto, services
from integrations.secrets.services import credential_clear_attention

EDITABLE_FIELDS = ("provider", "owner", "name", "strategy", "api_key_in", "api_key_name", "username")


def provider_choices(current: str = "") -> list[tuple[str, str]]:
    """The providers the registered integrations resolve credentials for, each with the
    integrations that use it; a stored provider no integration declares stays selectable."""
    users: dict[str, list[str]] = {}
    for integration in registry.all():
        provider = integration.metadata.credentials_provider
        if provider:
            users.setdefault(provider, []).append(integration.metadata.name)
    choices = [(provider, f"{provider} — {', '.join(names)}") for provider, names in sorted(users.items())]
    if current and current not in users:
        choices.append((current, f"{current} — used by no registered integration"))
    return [("", "---------"), *choices]


class CredentialForm(forms.ModelForm):
    provider = forms.ChoiceField(help_text="The service this credential authenticates to, as its integrations name it.")
    secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="API key, token or password. Stored encrypted and never shown again.",
    )

    class Meta:
        model = Credential
        fields = list(EDITABLE_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = provider_choices(self.instance.provider)
        if self.instance.pk is not None:
            self.fields[
                "secret"
            ].help_text = "Leave empty to keep the stored secret. A new secret clears the needs-attention flag."

    def clean(self):
        cleaned = super().clean()
        secret = cleaned.get("secret", "")
        if self.instance.pk is None and not secret:
            self.add_error("secret", "Enter the secret.")
        try:
            services.credential_validate(
                strategy=cleaned.get("strategy", ""),
                api_key_in=cleaned.get("api_key_in", ""),
                api_key_name=cleaned.get("api_key_name", ""),
                username=cleaned.get("username", ""),
            )
        except DomainError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.detail)
        if secret:
            try:
                services.credential_secret_validate(
                    secret, strategy=cleaned.get("strategy", ""), api_key_in=cleaned.get("api_key_in", "")
                )
            except DomainError as exc:
                self.add_error("secret", exc.detail)
        return cleaned


class ScopeFilter(admin.SimpleListFilter):
    title = "scope"
    parameter_name = "scope"

    def lookups(self, request, model_admin):
        return [("global", "global default"), ("owner", "an owner's own")]

    def queryset(self, request, queryset):
        if self.value() == "global":
            return queryset.filter(owner__isnull=True)
        if self.value() == "owner":
            return queryset.filter(owner__isnull=False)
        return queryset


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    form = CredentialForm
    list_display = (
        "provider",
        "scope",
        "name",
        "strategy",
        "secret_shown",
        "needs_attention",
        "attention_reason",
        "attention_at",
        "updated_at",
    )
    list_filter = ("needs_attention", ScopeFilter, "strategy", "provider")
    list_select_related = ("owner",)
    search_fields = ("provider", "name", "owner__slug", "owner__name")
    actions = ["clear_attention"]

    @method_decorator(sensitive_post_parameters("secret"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Error reports must not carry the secret the form was posting.
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_fields(self, request, obj=None):
        if obj is None:
            return (*EDITABLE_FIELDS, "secret")
        return (
            *EDITABLE_FIELDS,
            "secret_shown",
            "secret",
            "secret_changed_at",
            "needs_attention",
            "attention_reason",
            "attention_at",
            "created_at",
            "updated_at",
            "updated_by",
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (
            "secret_shown",
            "secret_changed_at",
            "needs_attention",
            "attention_reason",
            "attention_at",
            "created_at",
            "updated_at",
            "updated_by",
        )

    @admin.display(description="owner", ordering="owner__slug")
    def scope(self, obj: Credential) -> str:
        return obj.owner.slug if obj.owner_id else "global"

    @admin.display(description="secret")
    def secret_shown(self, obj: Credential):
        try:
            return crypto.mask(crypto.decrypt(obj.secret_encrypted))
        except crypto.DecryptionFailed:
            return format_html('<span class="errornote">{}</span>', "unreadable with the current keys: enter it again")

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data.get(name) or ("" if name != "owner" else None) for name in EDITABLE_FIELDS}
        secret = form.cleaned_data.get("secret") or None
        if change:
            credential = services.credential_update(credential=obj, secret=secret, updated_by=request.user, **fields)
        else:
            credential = services.credential_create(**fields, secret=secret, updated_by=request.user)
        copy_fields(obj, credential)

    def delete_model(self, request, obj):
        services.credential_delete(credential=obj)

    def delete_queryset(self, request, queryset):
        for credential in queryset:
            services.credential_delete(credential=credential)

    @admin.action(description="Clear the needs-attention flag", permissions=["change"])
    def clear_attention(self, request, queryset):
        flagged = list(queryset.filter(needs_attention=True))
        for credential in flagged:
            credential_clear_attention(credential)
        self.message_user(request, f"Cleared the flag of {len(flagged)} credential(s).", messages.SUCCESS)
