"""Project-wide admin: the site's name, API tokens, and the page that shows a new secret once."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from config import tokens
from config.credentials import credential_digest
from config.models import ApiToken

admin.site.site_header = "Switchboard"
admin.site.site_title = "Switchboard"
admin.site.index_title = "Administration"
# The app list beside every page takes 276 px: on a 1366 px laptop screen the device list would
# keep 717 px of it. The breadcrumbs and the index lead to every model just as well.
admin.site.enable_nav_sidebar = False


def copy_fields(target, source) -> None:
    """Make the admin's unsaved form instance the row a service created or saved, so the admin
    logs and links the real object (every ModelAdmin.save_model that hands work to a service)."""
    for field in type(source)._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.adding = False
    target._state.db = source._state.db


def secret_shown_once_response(
    request: HttpRequest,
    model_admin: admin.ModelAdmin,
    obj,
    *,
    title: str,
    secret_label: str,
    secret: str,
    usage: str = "",
    note: str = "",
) -> TemplateResponse:
    """A new secret, in this response only: never in a message (messages may live in a cookie),
    a URL or a log; only its digest is stored, so it cannot be shown again."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.opts,
        "object": obj,
        "secret_label": secret_label,
        "secret": secret,
        "usage": usage,
        "note": note,
    }
    response = TemplateResponse(request, "admin/secret_shown_once.html", context)
    add_never_cache_headers(response)
    return response


class ApiTokenIssueForm(forms.ModelForm):
    """Issues through `tokens.api_token_issue`, as the API does: a name the user already has
    replaces that token instead of being refused as a duplicate."""

    name = forms.CharField(
        max_length=100,
        required=False,
        initial=tokens.DEFAULT_TOKEN_NAME,
        help_text=f"What the token is for (blank: “{tokens.DEFAULT_TOKEN_NAME}”). If the user already has a "
        "token under this name, that token is revoked and replaced.",
    )

    class Meta:
        model = ApiToken
        # `name` is a form field only, so that model validation does not refuse a name the user
        # already has (the unique constraint): the service replaces that token.
        fields = ("user",)

    def clean_name(self):
        return self.cleaned_data["name"].strip() or tokens.DEFAULT_TOKEN_NAME


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued here or by POST /api/v1/auth/token/, and revoked by deleting them; they
    are never edited."""

    form = ApiTokenIssueForm

    list_display = ("user", "name", "prefix", "created_at", "last_used_at")
    list_select_related = ("user",)
    list_filter = ("last_used_at",)
    search_fields = ("user__username", "name", "prefix")
    raw_id_fields = ("user",)
    readonly_fields = ("prefix", "created_at", "last_used_at")

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["fields"] = ApiTokenIssueForm.Meta.fields  # not the fieldsets: see the form
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("user", "name")
        return ("user", "name", *self.readonly_fields)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(user=request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and not request.user.is_superuser:
            # A token acts as its user: issuing one for someone else would borrow their rights.
            kwargs["queryset"] = get_user_model().objects.filter(pk=request.user.pk)
            kwargs["initial"] = request.user.pk
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        raw = tokens.api_token_issue(user=form.cleaned_data["user"], name=form.cleaned_data["name"])
        token = ApiToken.objects.get(digest=credential_digest(raw))
        for field in ApiToken._meta.concrete_fields:
            setattr(obj, field.attname, getattr(token, field.attname))
        obj._state.adding = False
        obj.raw_token = raw

    def response_add(self, request, obj, post_url_continue=None):
        return secret_shown_once_response(
            request,
            self,
            obj,
            title=f"API token issued for {obj.user}",
            secret_label="API token",
            secret=obj.raw_token,
            usage="Send it as the header “Authorization: Token <token>” to the management API.",
            note=f"It is {obj.user}’s token “{obj.name}”: any token they had under that name no longer works.",
        )
