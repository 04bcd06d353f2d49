"""The system check rejects duplicate ids, bad versions, invalid schemas and unmarked secrets."""

import pytest
from django.core import checks

from integrations.registry import BaseIntegration, Category, IntegrationMetadata, IntegrationResult, registry


def define(**overrides) -> type[BaseIntegration]:
    fields = {
        "id": "example.echo",
        "version": "1.0.0",
        "name": "Echo",
        "description": "Says it back.",
        "category": Category.NEWS,
        "config_schema": {"type": "object", "properties": {"text": {"type": "string"}}},
        "library": "none",
    }

    class Fake(BaseIntegration):
        metadata = IntegrationMetadata(**(fields | overrides))

        def execute(self, config, *, owner=None, context=None):
            return IntegrationResult.success({})

    return Fake


def errors() -> list[checks.CheckMessage]:
    return checks.run_checks(tags=["integrations"])


@pytest.fixture(autouse=True)
def isolated_registry():
    with registry.isolated():
        yield


def test_the_built_in_integrations_pass():
    assert errors() == []


def test_a_good_fake_passes():
    define()

    assert errors() == []


def test_a_duplicate_id_is_an_error():
    define()
    define(name="Echo again")

    (error,) = errors()
    assert error.id == "integrations.E100"
    assert "'example.echo' is declared more than once" in error.msg


def test_a_duplicate_of_a_built_in_is_an_error():
    define(id="telegram.send_message")

    assert [error.id for error in errors()] == ["integrations.E100"]


@pytest.mark.parametrize("version", ["1.0", "v1.0.0", "01.0.0", "1.0.0.0", "latest", ""])
def test_a_version_that_is_not_semver_is_an_error(version):
    define(version=version)

    (error,) = errors()
    assert error.id == "integrations.E104"
    assert "is not a semantic version" in error.msg


@pytest.mark.parametrize("version", ["0.1.0", "2.10.3", "1.0.0-beta.2", "1.0.0+build.7"])
def test_semver_versions_pass(version):
    define(version=version)

    assert errors() == []


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"text": {"type": "strin"}}},
        {"type": "object", "required": "text"},
        {"type": "object", "properties": {"n": {"minimum": "zero"}}},
        {"type": 7},
    ],
)
def test_a_schema_that_fails_the_draft_2020_12_meta_schema_is_an_error(schema):
    define(config_schema=schema)

    (error,) = errors()
    assert error.id == "integrations.E107"
    assert "not a valid JSON Schema (Draft 2020-12)" in error.msg


def test_a_schema_of_something_else_than_an_object_is_an_error():
    define(config_schema={"type": "string"})

    assert [error.id for error in errors()] == ["integrations.E107"]


def test_a_secret_looking_field_must_be_marked():
    define(config_schema={"type": "object", "properties": {"api_token": {"type": "string"}}})

    (error,) = errors()
    assert error.id == "integrations.E108"
    assert "$.api_token looks secret but is not marked" in error.msg


@pytest.mark.parametrize("mark", [{"x-secret": True}, {"writeOnly": True}])
def test_a_marked_secret_field_passes(mark):
    define(config_schema={"type": "object", "properties": {"api_token": {"type": "string", **mark}}})

    assert errors() == []


@pytest.mark.parametrize(
    ("overrides", "error_id"),
    [
        ({"id": "Echo"}, "integrations.E103"),
        ({"category": "finance"}, "integrations.E105"),
        ({"credentials_strategy": "oauth"}, "integrations.E109"),
        ({"credentials_required": True}, "integrations.E109"),
        ({"side_effecting": True, "cache_ttl": 60}, "integrations.E110"),
        ({"cache_ttl": 0}, "integrations.E110"),
    ],
)
def test_other_declarations_are_checked(overrides, error_id):
    define(**overrides)

    assert [error.id for error in errors()] == [error_id]


def test_a_class_without_metadata_or_execute_is_an_error():
    class NoMetadata(BaseIntegration):
        pass

    class NoExecute(BaseIntegration):
        metadata = IntegrationMetadata(
            id="example.lazy",
            version="1.0.0",
            name="Lazy",
            description="Does nothing.",
            category=Category.NEWS,
            config_schema={"type": "object"},
            library="none",
        )

    assert sorted(error.id for error in errors()) == ["integrations.E102", "integrations.E111"]


def test_manage_py_check_runs_it():
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    define(version="one")

    with pytest.raises(SystemCheckError, match="integrations.E104"):
        call_command("check")
