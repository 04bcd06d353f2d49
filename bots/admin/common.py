"""What the bots' admin pages share: read-only pages for records, short cells for long texts."""

from django.contrib import admin
from django.utils.html import format_html

CELL_TEXT_LIMIT = 80


class RecordAdmin(admin.ModelAdmin):
    """A record the hub writes (what was sent, what Telegram said): shown, never added, edited or
    deleted by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RecordInline(admin.TabularInline):
    """Rows of a record shown on its parent's page, read-only; seen by whoever may see the parent."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        parent = self.parent_model._meta
        return super().has_view_permission(request, obj) or any(
            request.user.has_perm(f"{parent.app_label}.{action}_{parent.model_name}") for action in ("view", "change")
        )


def short_text(text: str, limit: int = CELL_TEXT_LIMIT):
    """A long text cut for a list cell, whole in its tooltip."""
    if len(text) <= limit:
        return text or "—"
    return format_html('<span title="{}">{}…</span>', text, text[: limit - 1])
