"""Admin of invitations: made here (owner, role, lifetime, uses), their deep link and QR code
shown once on the page that answers the form — only the token's digest is stored, so no later
page can show them — listed with their state, and revoked. Through `bots.invitations`."""

import datetime as dt

from django import forms
from django.contrib import admin
from django.db.models import F, Q
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.safestring import mark_safe

from bots import invitations
from bots.admin.common import short_text
from bots.models import Invitation
from bots.qr import qr_svg
from config.admin import copy_fields
from config.errors import DomainError

CREATE_FIELDS = ("owner", "role", "lifetime_days", "lifetime_hours", "max_uses", "note")
SHOWN_FIELDS = (
    "owner",
    "role",
    "token_prefix",
    "state",
    "uses",
    "max_uses",
    "expires_at",
    "revoked_at",
    "note",
    "created_by",
    "created_at",
)
MAX_LIFETIME_DAYS = invitations.MAX_LIFETIME.days


class InvitationCreateForm(forms.ModelForm):
    lifetime_days = forms.IntegerField(
        label="Valid for (days)", min_value=0, max_value=MAX_LIFETIME_DAYS, initial=invitations.DEFAULT_LIFETIME.days
    )
    lifetime_hours = forms.IntegerField(label="and hours", min_value=0, max_value=23, initial=0)
    max_uses = forms.IntegerField(
        min_value=1, max_value=1000, initial=1, help_text="How many chats may use it (1: single-use)."
    )

    class Meta:
        model = Invitation
        fields = ("owner", "role", "max_uses", "note")

    def clean(self):
        cleaned = super().clean()
        days, hours = cleaned.get("lifetime_days"), cleaned.get("lifetime_hours")
        if days is not None and hours is not None:
            lifetime = dt.timedelta(days=days, hours=hours)
            if not dt.timedelta(hours=1) <= lifetime <= invitations.MAX_LIFETIME:
                self.add_error("lifetime_days", f"An invitation is valid between an hour and {MAX_LIFETIME_DAYS} days.")
            cleaned["lifetime"] = lifetime
        return cleaned


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "open"), ("used", "used up"), ("expired", "expired"), ("revoked", "revoked")]

    def queryset(self, request, queryset):
        now = timezone.now()
        live = Q(revoked_at__isnull=True, expires_at__gt=now)
        filters = {
            "open": live & Q(uses__lt=F("max_uses")),
            "used": live & Q(uses__gte=F("max_uses")),
            "expired": Q(revoked_at__isnull=True, expires_at__lte=now),
            "revoked": Q(revoked_at__isnull=False),
        }
        if self.value() in filters:
            return queryset.filter(filters[self.value()])
        return queryset


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    form = InvitationCreateForm
    list_display = ("token_prefix", "owner", "role", "uses_of_max", "expires_at", "state", "note_short", "created_by")
    list_select_related = ("owner", "created_by")
    list_filter = (StateFilter, "role", "owner")
    search_fields = ("=token_prefix", "note", "owner__slug", "owner__name")
    search_help_text = "Token prefix (exact), note, owner."
    date_hierarchy = "created_at"
    actions = ("revoke",)

    def get_fields(self, request, obj=None):
        return CREATE_FIELDS if obj is None else SHOWN_FIELDS

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else SHOWN_FIELDS

    def has_change_permission(self, request, obj=None):
        # An invitation is never edited, only revoked (the action, with the change permission).
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False  # the record of who let whom in stays; revoking ends it

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "owner" and formfield is not None:
            formfield.widget.can_add_related = False
        return formfield

    @admin.display(description="uses")
    def uses_of_max(self, obj: Invitation) -> str:
        return f"{obj.uses}/{obj.max_uses}"

    @admin.display(description="state")
    def state(self, obj: Invitation) -> str:
        state = invitations.invitation_state(obj)
        return "used up" if state == "used" else state

    @admin.display(description="note", ordering="note")
    def note_short(self, obj: Invitation):
        return short_text(obj.note, 40)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        invitation, token = invitations.invitation_create(
            owner=data["owner"],
            role=data["role"],
            created_by=request.user,
            lifetime=data["lifetime"],
            max_uses=data["max_uses"],
            note=data.get("note", ""),
        )
        copy_fields(obj, invitation)
        obj.raw_token = token

    def response_add(self, request, obj, post_url_continue=None):
        """The link and its QR code, in this response only: never in a message (messages may
        live in a cookie), a URL or a log."""
        try:
            link = invitations.invitation_link(obj.raw_token)
        except DomainError as exc:
            link, link_problem = None, exc.detail
        else:
            link_problem = ""
        context = {
            **self.admin_site.each_context(request),
            "title": "Invitation created",
            "opts": self.opts,
            "object": obj,
            "token": obj.raw_token,
            "link": link,
            "link_problem": link_problem,
            # Our own markup from the QR encoder: it holds no text of the request.
            "qr_svg": mark_safe(qr_svg(link)) if link else "",  # noqa: S308
            "expires_at": obj.expires_at,
        }
        response = TemplateResponse(request, "admin/bots/invitation/created.html", context)
        add_never_cache_headers(response)
        return response

    @admin.action(description="Revoke selected invitations", permissions=["change"])
    def revoke(self, request, queryset):
        revoked = 0
        for invitation in queryset.filter(revoked_at__isnull=True):
            invitations.invitation_revoke(invitation=invitation)
            revoked += 1
        self.message_user(request, f"Revoked {revoked} invitation(s); chats already let in keep their access.")
