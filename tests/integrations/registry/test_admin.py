"""The admin lists integration runs, filtered by integration and status; they are read-only."""

import pytest
from django.urls import reverse

from integrations.models import IntegrationRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded_runs():
    IntegrationRun.objects.create(
        integration_id="exchangerate.latest",
        integration_version="1.0.0",
        trigger="api",
        status="succeeded",
        result_summary={"base": "USD"},
    )
    IntegrationRun.objects.create(
        integration_id="telegram.send_message",
        integration_version="1.0.0",
        trigger="connection",
        status="failed",
        error_code="client_error",
        error_message="Telegram: Chat not found",
    )


def test_runs_are_listed_and_filtered_by_integration_and_status(admin_client, recorded_runs):
    url = reverse("admin:integrations_integrationrun_changelist")

    every = admin_client.get(url)
    telegram = admin_client.get(url, {"integration": "telegram.send_message"})
    failed = admin_client.get(url, {"status__exact": "failed"})

    assert every.status_code == telegram.status_code == failed.status_code == 200
    assert every.context["cl"].result_count == 2
    assert [run.integration_id for run in telegram.context["cl"].result_list] == ["telegram.send_message"]
    assert [run.error_code for run in failed.context["cl"].result_list] == ["client_error"]
    # Every registered integration is offered as a filter, even without runs yet.
    assert "github.repository" in every.content.decode()


def test_a_run_can_be_viewed_but_not_added_or_changed(admin_client, recorded_runs):
    run = IntegrationRun.objects.get(integration_id="telegram.send_message")

    page = admin_client.get(reverse("admin:integrations_integrationrun_change", args=[run.pk]))
    add = admin_client.get(reverse("admin:integrations_integrationrun_add"))
    post = admin_client.post(
        reverse("admin:integrations_integrationrun_change", args=[run.pk]), {"status": "succeeded"}
    )

    assert page.status_code == 200
    assert "Telegram: Chat not found" in page.content.decode()
    assert add.status_code == 403
    assert post.status_code == 403
    run.refresh_from_db()
    assert run.status == "failed"
