"""Discovery and registration of integrations."""

import pytest

from config.errors import NotFound
from integrations.registry import (
    BaseIntegration,
    Category,
    IntegrationMetadata,
    IntegrationResult,
    UnknownIntegration,
    registry,
)

BUILT_IN = ["exchangerate.latest", "github.repository", "openweathermap.current_weather", "telegram.send_message"]


def metadata(**overrides) -> IntegrationMetadata:
    fields = {
        "id": "example.echo",
        "version": "1.0.0",
        "name": "Echo",
        "description": "Says it back.",
        "category": Category.NEWS,
        "config_schema": {"type": "object"},
        "library": "none",
    }
    return IntegrationMetadata(**(fields | overrides))


def test_the_app_discovers_the_four_built_in_integrations_when_it_loads():
    assert registry.ids() == BUILT_IN
    assert registry.import_errors == []


@pytest.mark.parametrize("integration_id", BUILT_IN)
def test_each_built_in_lives_in_its_service_folder(integration_id):
    integration = registry.get(integration_id)

    service = integration_id.split(".")[0]
    assert type(integration).__module__.startswith(f"integrations.providers.{service}.")
    assert integration.metadata.service == service


def test_what_each_built_in_declares():
    declared = {i.metadata.id: i.metadata for i in registry.all()}

    telegram = declared["telegram.send_message"]
    assert (telegram.side_effecting, telegram.cache_ttl, telegram.category) == (True, None, "messaging")
    assert (telegram.credentials_provider, telegram.credentials_setting) == ("telegram", "TELEGRAM_BOT_TOKEN")
    assert telegram.library.startswith("python-telegram-bot")
    assert declared["openweathermap.current_weather"].cache_ttl == 600
    assert declared["openweathermap.current_weather"].credentials_required
    assert not declared["exchangerate.latest"].side_effecting
    assert declared["github.repository"].secret_fields == ["$.token"]


def test_defining_an_integration_class_registers_it():
    with registry.isolated():

        class Echo(BaseIntegration):
            metadata = metadata()

            def execute(self, config, *, owner=None, context=None):
                return IntegrationResult.success({"echo": config})

        assert registry.get("example.echo").execute({"a": 1}).as_dict() == {
            "ok": True,
            "result": {"echo": {"a": 1}},
            "source": "api",
            "stale": False,
        }
        assert "example.echo" in registry

    assert "example.echo" not in registry


def test_a_base_class_can_opt_out_of_registration():
    with registry.isolated():

        class Base(BaseIntegration, register=False):
            pass

        assert Base not in registry.registered_classes()


def test_an_unknown_id_is_a_404_domain_error():
    with pytest.raises(UnknownIntegration) as raised:
        registry.get("nope.nothing")

    assert isinstance(raised.value, NotFound)
    assert raised.value.detail == "Unknown integration 'nope.nothing'."


def test_a_module_that_fails_to_import_is_remembered_for_the_system_check(tmp_path, monkeypatch):
    package = tmp_path / "fake_providers"
    (package / "broken").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "broken" / "__init__.py").write_text("")
    (package / "broken" / "action.py").write_text("raise RuntimeError('no such library')\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    with registry.isolated():
        registry.discover("fake_providers")

        assert registry.import_errors == [("fake_providers.broken.action", "RuntimeError: no such library")]


def test_the_normalized_failure_shape():
    result = IntegrationResult.failure("rate_limited", "Slow down.", retry_after=7)

    assert result.as_dict() == {
        "ok": False,
        "error": {"code": "rate_limited", "message": "Slow down.", "retry_after": 7},
    }
    assert result.error.http_status == 503
    assert IntegrationResult.failure("not_found", "x").error.http_status == 404
    assert IntegrationResult.failure("unauthorized", "x").error.http_status == 502
