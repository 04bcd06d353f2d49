from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from integrations.connections import services as connections
from integrations.models import Connection
from integrations.registry import registry


def _fields_help() -> str:
    device = ", ".join(connections.DEVICE_EVENT_FIELDS)
    webhook = ", ".join(connections.WEBHOOK_EVENT_FIELDS)
    return (
        f"Fields of device events: {device} (latitude and longitude are null when the location is "
        f'unknown; inside text a null field reads "unknown"). Fields of webhook.received: {webhook} '
        "(payload.* is the delivery's JSON, e.g. {{ payload.repository.full_name }})."
    )


class ConnectionForm(forms.ModelForm):
    integration_id = forms.ChoiceField(label="Integration")

    class Meta:
        model = Connection
        fields = [
            "name",
            "is_active",
            "event",
            "webhook_endpoint",
            "owner",
            "measurement_type",
            "integration_id",
            "config_template",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["integration_id"].choices = [(i, i) for i in registry.ids()]
        self.fields["config_template"].help_text += " " + _fields_help()

    def clean(self):
        cleaned = super().clean()
        event = cleaned.get("event")
        if event == Connection.Event.WEBHOOK_RECEIVED and not cleaned.get("webhook_endpoint"):
            self.add_error("webhook_endpoint", "Choose the endpoint whose deliveries trigger this connection.")
        if event and event != Connection.Event.WEBHOOK_RECEIVED and cleaned.get("webhook_endpoint"):
            self.add_error("webhook_endpoint", "Only webhook.received connections have an endpoint.")
        if event and cleaned.get("integration_id") and "config_template" in cleaned:
            try:
                connections.connection_config_check(
                    event=event, integration_id=cleaned["integration_id"], config_template=cleaned["config_template"]
                )
            except connections.TemplateError as exc:
                self.add_error(exc.field if exc.field in self.fields else None, exc.detail)
        return cleaned


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionForm
    list_display = ["name", "event", "integration_id", "owner", "measurement_type", "is_active", "runs_link"]
    list_filter = ["event", "is_active", "integration_id"]
    list_select_related = ["owner", "measurement_type"]
    search_fields = ["name", "integration_id"]

    @admin.display(description="runs")
    def runs_link(self, connection):
        url = reverse("admin:integrations_integrationrun_changelist") + f"?connection__id__exact={connection.pk}"
        return format_html('<a href="{}">runs</a>', url)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault(
            "config_template", {"chat_id": 0, "text": "New device {{ device_id }} of {{ owner }} in {{ city }}"}
        )
        return initial
