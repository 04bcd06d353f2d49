"""POST /api/v1/integrations/{id}/execute/ and GET /api/v1/integrations/runs/{run_id}/."""

import uuid

import pytest

from integrations.models import IntegrationRun
from tests.factories import OwnerFactory, UserFactory
from tests.integrations.providers.fakes import credential_for, fixture
from tests.integrations.registry.conftest import VIEW_RUNS, client_for

pytestmark = pytest.mark.django_db


def execute_url(integration_id: str) -> str:
    return f"/api/v1/integrations/{integration_id}/execute/"


def run_url(run_id) -> str:
    return f"/api/v1/integrations/runs/{run_id}/"


# ------------------------------------------------------------------------------ validation


def test_a_config_that_does_not_match_the_schema_is_400_with_errors_keyed_by_json_path(executor_client):
    response = executor_client.post(
        execute_url("telegram.send_message"),
        {"config": {"chat_id": "not a chat", "parse_mode": "BBCode", "colour": "red"}},
        format="json",
    )

    assert response.status_code == 400
    errors = response.json()["config"]
    assert errors["$.text"] == ["This field is required."]
    assert errors["$.colour"] == ["Unknown field."]
    assert list(errors) == ["$.chat_id", "$.colour", "$.parse_mode", "$.text"]
    assert "'BBCode' is not one of" in errors["$.parse_mode"][0]
    assert IntegrationRun.objects.count() == 0


def test_nested_errors_carry_their_full_path(executor_client):
    response = executor_client.post(
        execute_url("exchangerate.latest"), {"config": {"base": "usd", "symbols": ["EUR", "eur1"]}}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["config"]) == {"$.base", "$.symbols[1]"}


def test_the_value_of_a_secret_field_is_never_repeated_in_an_error(executor_client):
    response = executor_client.post(
        execute_url("github.repository"),
        {"config": {"repository": "octocat/Hello-World", "token": 8675309}},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"config": {"$.token": ["Invalid value (fails 'type')."]}}


@pytest.mark.parametrize("body", [{"config": ["chat"]}, {"config": "text"}])
def test_a_config_that_is_not_an_object_is_400(executor_client, body):
    response = executor_client.post(execute_url("telegram.send_message"), body, format="json")

    assert response.status_code == 400
    assert response.json() == {"config": {"$": ["Expected a JSON object."]}}


def test_a_missing_config_or_unknown_owner_is_400(executor_client):
    response = executor_client.post(execute_url("exchangerate.latest"), {"owner": "nobody"}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"config", "owner"}


def test_executing_an_unknown_integration_is_404(executor_client):
    response = executor_client.post(execute_url("nope.nothing"), {"config": {}}, format="json")

    assert response.status_code == 404


def test_executing_needs_the_execute_permission(user_client):
    response = user_client.post(execute_url("exchangerate.latest"), {"config": {"base": "USD"}}, format="json")

    assert response.status_code == 403
    assert "execute integrations" in response.json()["detail"]


# ------------------------------------------------------------------------------- reads


def test_a_read_answers_at_once_with_its_result_and_run(executor_client, executor, fake_services):
    owner = OwnerFactory()
    credential_for("openweathermap", owner=owner)
    fake_services.expect_request("/data/2.5/weather").respond_with_json(
        fixture("openweathermap", "current_weather_london")
    )

    response = executor_client.post(
        execute_url("openweathermap.current_weather"),
        {"config": {"city": "London"}, "owner": owner.slug},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["ok"], body["source"], body["stale"]) == ("succeeded", True, "api", False)
    assert body["result"]["temperature"] == 11.62
    run = IntegrationRun.objects.get(pk=body["run_id"])
    assert (run.integration_id, run.integration_version, run.trigger) == (
        "openweathermap.current_weather",
        "1.0.0",
        "api",
    )
    assert (run.owner, run.requested_by, run.attempts, run.source) == (owner, executor, 1, "api")
    assert run.result_summary["description"] == "overcast clouds"
    assert run.started_at <= run.finished_at and run.duration_ms is not None


def test_a_failed_read_answers_with_its_errors_status_and_is_recorded(executor_client, fake_services):
    credential_for("openweathermap")
    fake_services.expect_request("/data/2.5/weather").respond_with_json(
        fixture("openweathermap", "city_not_found"), status=404
    )

    response = executor_client.post(
        execute_url("openweathermap.current_weather"), {"config": {"city": "Atlantis"}}, format="json"
    )

    assert response.status_code == 404
    body = response.json()
    assert body["ok"] is False
    assert body["error"] == {"code": "not_found", "message": "City not found."}
    run = IntegrationRun.objects.get(pk=body["run_id"])
    assert (run.status, run.error_code, run.error_message) == ("failed", "not_found", "City not found.")
    assert run.result_summary == {}


def test_a_rate_limited_read_says_when_to_come_back(executor_client, fake_services):
    fake_services.expect_request("/v6/latest/USD").respond_with_json(
        {"result": "error", "error-type": "quota-reached"}, status=429, headers={"Retry-After": "42"}
    )

    response = executor_client.post(execute_url("exchangerate.latest"), {"config": {"base": "USD"}}, format="json")

    assert response.status_code == 503
    assert response["Retry-After"] == "42"
    assert response.json()["error"]["code"] == "rate_limited"


# -------------------------------------------------------------------------------- runs


def test_a_run_is_shown_to_whoever_started_it(executor_client, fake_services):
    fake_services.expect_request("/v6/latest/USD").respond_with_json(fixture("exchangerate", "latest_usd"))
    run_id = executor_client.post(
        execute_url("exchangerate.latest"), {"config": {"base": "USD"}}, format="json"
    ).json()["run_id"]

    response = executor_client.get(run_url(run_id))

    assert response.status_code == 200
    body = response.json()
    assert {
        key: body[key]
        for key in ("id", "integration", "version", "status", "trigger", "owner", "error", "source", "attempts")
    } == {
        "id": run_id,
        "integration": "exchangerate.latest",
        "version": "1.0.0",
        "status": "succeeded",
        "trigger": "api",
        "owner": None,
        "error": None,
        "source": "api",
        "attempts": 1,
    }
    assert body["result"] == {"base": "USD", "updated_at": "2023-11-15T00:00:01+00:00", "rates_count": 7}


def test_other_peoples_runs_need_the_view_permission(executor_client, fake_services):
    fake_services.expect_request("/v6/latest/USD").respond_with_json(fixture("exchangerate", "latest_usd"))
    run_id = executor_client.post(
        execute_url("exchangerate.latest"), {"config": {"base": "USD"}}, format="json"
    ).json()["run_id"]

    assert client_for(UserFactory()).get(run_url(run_id)).status_code == 404
    assert client_for(UserFactory(permissions=[VIEW_RUNS])).get(run_url(run_id)).status_code == 200


def test_an_unknown_run_is_404(executor_client):
    response = executor_client.get(run_url(uuid.uuid4()))

    assert response.status_code == 404
    assert response.json() == {"detail": "Integration run not found."}


def test_runs_are_listed_newest_first_and_filtered(fake_services):
    fake_services.expect_request("/v6/latest/USD").respond_with_json(fixture("exchangerate", "latest_usd"))
    fake_services.expect_request("/v6/latest/XYZ").respond_with_json(
        fixture("exchangerate", "unsupported_code"), status=404
    )
    starter = client_for(UserFactory(permissions=["integrations.execute_integration"]))
    for base in ("USD", "XYZ"):
        starter.post(execute_url("exchangerate.latest"), {"config": {"base": base}}, format="json")
    viewer = client_for(UserFactory(permissions=[VIEW_RUNS]))

    every = viewer.get("/api/v1/integrations/runs/").json()
    failed = viewer.get("/api/v1/integrations/runs/", {"status": "failed"}).json()
    nobody = client_for(UserFactory()).get("/api/v1/integrations/runs/").json()

    assert [run["status"] for run in every["results"]] == ["failed", "succeeded"]
    assert [run["error"]["code"] for run in failed["results"]] == ["not_found"]
    assert nobody["count"] == 0


def test_a_stored_secret_http_cannot_carry_fails_the_run_cleanly_and_flags_the_credential(
    executor_client, fake_services
):
    # Stored before secrets were checked on saving: written to the table as it was then.
    from integrations.models import Credential
    from integrations.secrets import crypto

    credential = Credential.objects.create(
        provider="github", strategy="bearer", secret_encrypted=crypto.encrypt("ünïcode-secret-value")
    )

    response = executor_client.post(
        execute_url("github.repository"), {"config": {"repository": "octocat/Hello-World"}}, format="json"
    )

    assert response.status_code == 503
    body = response.json()
    assert body["ok"] is False and body["error"]["code"] == "invalid_request"
    assert "ünïcode" not in response.content.decode()
    assert fake_services.log == []
    credential.refresh_from_db()
    assert credential.needs_attention
