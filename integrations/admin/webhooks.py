"""Admin of inbound webhooks: endpoints with their secrets, and the deliveries received.

Writes go through the services of `integrations.webhooks` (endpoints, processing). A signing
secret is shown once, on the page that answers its creation (never in a message: messages may
live in a cookie); afterwards only its last characters are. Recorded headers have signatures
and credentials masked.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.text import Truncator

from config.admin import copy_fields
from integrations.models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookSecret
from integrations.webhooks import endpoints, processing, records, selectors, signatures

SECRETS_TEMPLATE = "admin/integrations/webhookendpoint/secrets_shown_once.html"
CREATE_FIELDS = ("name", "scheme", "tolerance_seconds", "is_active", "owner")


class SecretInlineFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [
            form.instance
            for form in self.forms
            if form.instance.pk and not (self.can_delete and self._should_delete_form(form))
        ]
        removing = len(kept) < len([form for form in self.forms if form.instance.pk])
        if removing and not any(secret.is_active for secret in kept):
            raise ValidationError("Keep at least one active secret, or the endpoint refuses every sender.")


class WebhookSecretInline(admin.TabularInline):
    model = WebhookSecret
    formset = SecretInlineFormSet
    fields = ("masked", "created_at", "expires_at", "is_active")
    readonly_fields = fields
    extra = 0
    verbose_name_plural = "signing secrets (use the “rotate secret” action to add one)"

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="secret")
    def masked(self, secret: WebhookSecret) -> str:
        return str(secret)

    @admin.display(boolean=True, description="active")
    def is_active(self, secret: WebhookSecret) -> bool:
        return secret.is_active


class EndpointAddForm(forms.ModelForm):
    secret = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Only if the sender issues its own secret (e.g. a whsec_… secret); empty = generate one. "
        "Either way it is shown once, on the next page.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = CREATE_FIELDS

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("secret") and cleaned.get("scheme"):
            try:
                signatures.scheme_get(cleaned["scheme"]).secret_normalize(cleaned["secret"])
            except signatures.InvalidSecret as exc:
                self.add_error("secret", str(exc))
        return cleaned


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("name", "scheme", "owner", "is_active", "receive_url", "created_at")
    list_select_related = ("owner",)
    list_filter = ("scheme", "is_active", "owner")
    search_fields = ("name",)
    readonly_fields = ("scheme", "receive_url", "created_at", "updated_at")
    actions = ("rotate_secret",)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = EndpointAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return (*CREATE_FIELDS, "secret")
        return ("name", "scheme", "receive_url", "tolerance_seconds", "is_active", "owner", "created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_inlines(self, request, obj=None):
        return [] if obj is None else [WebhookSecretInline]

    @admin.display(description="receiving URL")
    def receive_url(self, endpoint: WebhookEndpoint) -> str:
        return selectors.endpoint_receive_url(endpoint=endpoint)

    def save_model(self, request, obj, form, change):
        if change:
            endpoints.endpoint_update(
                endpoint=obj,
                **{name: form.cleaned_data[name] for name in endpoints.UPDATABLE_FIELDS if name in form.changed_data},
            )
            return
        endpoint, secret = endpoints.endpoint_create(
            **{name: form.cleaned_data[name] for name in CREATE_FIELDS},
            secret=form.cleaned_data.get("secret"),
        )
        copy_fields(obj, endpoint)
        obj.raw_secret = secret

    def save_formset(self, request, form, formset, change):
        if formset.model is not WebhookSecret:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        for secret in formset.deleted_objects:
            endpoints.endpoint_secret_remove(secret=secret)

    def delete_model(self, request, obj):
        endpoints.endpoint_delete(endpoint=obj)

    def delete_queryset(self, request, queryset):
        for endpoint in queryset:
            endpoints.endpoint_delete(endpoint=endpoint)

    def _secrets_page(self, request, *, title: str, rows: list[dict]) -> TemplateResponse:
        context = {**self.admin_site.each_context(request), "title": title, "opts": self.opts, "rows": rows}
        response = TemplateResponse(request, SECRETS_TEMPLATE, context)
        add_never_cache_headers(response)
        return response

    def _row(self, request, endpoint: WebhookEndpoint, secret: str) -> dict:
        return {
            "endpoint": endpoint,
            "url": selectors.endpoint_receive_url(endpoint=endpoint, request=request),
            "secret": secret,
        }

    def response_add(self, request, obj, post_url_continue=None):
        return self._secrets_page(
            request, title=f"Webhook endpoint “{obj}” created", rows=[self._row(request, obj, obj.raw_secret)]
        )

    @admin.action(description="Rotate secret (add a new one; the current ones keep working)", permissions=["change"])
    def rotate_secret(self, request, queryset):
        rows = []
        for endpoint in queryset:
            _, secret = endpoints.endpoint_secret_add(endpoint=endpoint)
            self.log_change(request, endpoint, "Added a signing secret.")
            rows.append(self._row(request, endpoint, secret))
        return self._secrets_page(request, title="New webhook signing secrets", rows=rows)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("received_at", "endpoint", "delivery_id", "outcome", "is_valid", "processed", "short_error")
    list_select_related = ("endpoint",)
    list_filter = ("outcome", "is_valid", "processed", "endpoint")
    search_fields = ("=delivery_id",)
    fields = (
        "endpoint",
        "delivery_id",
        "received_at",
        "outcome",
        "status_code",
        "is_valid",
        "processed",
        "processed_at",
        "attempts",
        "error",
        "headers_display",
        "body_display",
        "body_truncated",
    )
    readonly_fields = fields
    actions = ("reprocess",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Deliveries are evidence: shown, never edited.
        return False

    def has_reprocess_permission(self, request) -> bool:
        return request.user.has_perm("integrations.change_webhookdelivery")

    @admin.display(description="error")
    def short_error(self, delivery: WebhookDelivery) -> str:
        return Truncator(delivery.error).chars(80)

    @admin.display(description="headers")
    def headers_display(self, delivery: WebhookDelivery) -> str:
        # Masked when recorded; masked again here in case a row came from elsewhere.
        headers = records.headers_masked(delivery.headers or {})
        return format_html("<pre>{}</pre>", json.dumps(headers, indent=2, ensure_ascii=False, sort_keys=True))

    @admin.display(description="body")
    def body_display(self, delivery: WebhookDelivery) -> str:
        text = delivery.body
        try:
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except (ValueError, RecursionError):
            pass
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)

    @admin.action(
        description="Reprocess (failed or stuck deliveries; processed ones are left alone)", permissions=["reprocess"]
    )
    def reprocess(self, request, queryset):
        results = processing.deliveries_process(delivery_pks=list(queryset.values_list("pk", flat=True)))
        summary = ", ".join(f"{count} {result}" for result, count in sorted(results.items()))
        failed = results.get(processing.ProcessResult.FAILED, 0)
        self.message_user(request, f"Reprocessed: {summary}.", messages.WARNING if failed else messages.SUCCESS)
