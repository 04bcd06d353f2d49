"""System checks of the integration registry (`manage.py check`, and before runserver/migrate).

Like Home Assistant's manifest check: every registered integration must have a unique id of
the form `<service>.<action>`, a semantic version, a category from the list, a config schema
that is a valid JSON Schema (Draft 2020-12) describing an object, with the fields that look
secret marked so, and an `execute` method of its own.
"""

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping

from django.core import checks
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from integrations.registry.base import (
    BaseIntegration,
    Category,
    IntegrationMetadata,
    IntegrationRegistry,
    is_secret_schema,
    registry,
)

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}\.[a-z][a-z0-9_]{0,39}$")
# https://semver.org/#is-there-a-suggested-regular-expression-regex-to-check-a-semver-string
SEMVER_PATTERN = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
# Property names that hold a secret; such a property must be marked x-secret (or writeOnly).
SECRET_NAME = re.compile(r"(token|secret|password|passwd|api_?key|apikey|private_?key|credential)", re.IGNORECASE)
STRATEGIES = ("api_key", "bearer", "basic")
TAG = "integrations"


def _label(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _unmarked_secrets(schema, path: str = "$") -> list[str]:
    found = []
    if not isinstance(schema, Mapping):
        return found
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        for name, sub in properties.items():
            child = f"{path}.{name}"
            if SECRET_NAME.search(str(name)) and not is_secret_schema(sub):
                found.append(child)
            found.extend(_unmarked_secrets(sub, child))
    if isinstance(schema.get("items"), Mapping):
        found.extend(_unmarked_secrets(schema["items"], f"{path}[*]"))
    return found


Problem = tuple[str, str, str]  # message, hint, check id


def _identity_problems(meta: IntegrationMetadata) -> Iterator[Problem]:
    if not isinstance(meta.id, str) or not ID_PATTERN.match(meta.id):
        yield (
            f"invalid id {meta.id!r}.",
            "Use '<service>.<action>' in lower case, e.g. 'telegram.send_message'.",
            "integrations.E103",
        )
    if not isinstance(meta.version, str) or not SEMVER_PATTERN.match(meta.version):
        yield (
            f"version {meta.version!r} is not a semantic version.",
            "Use MAJOR.MINOR.PATCH, e.g. '1.0.0'.",
            "integrations.E104",
        )
    if meta.category not in Category.__members__.values():
        yield f"unknown category {meta.category!r}.", f"One of: {', '.join(Category)}.", "integrations.E105"
    for field in ("name", "description", "library"):
        if not isinstance(getattr(meta, field), str) or not getattr(meta, field).strip():
            yield f"metadata.{field} is empty.", "Describe the integration for the catalog.", "integrations.E106"


def _schema_problems(meta: IntegrationMetadata) -> Iterator[Problem]:
    schema = meta.config_schema
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.path) or "(root)"
        yield (
            f"config_schema is not a valid JSON Schema (Draft 2020-12) at {where}: {exc.message}",
            "Fix the schema; it is checked against the Draft 2020-12 meta-schema.",
            "integrations.E107",
        )
        return
    if not isinstance(schema, Mapping) or schema.get("type") != "object":
        yield (
            'config_schema must describe an object ("type": "object").',
            "The config is a JSON object of named fields.",
            "integrations.E107",
        )
    for path in _unmarked_secrets(schema):
        yield (
            f"config field {path} looks secret but is not marked.",
            'Add "x-secret": true (or "writeOnly": true) so it is masked everywhere.',
            "integrations.E108",
        )


def _behaviour_problems(cls: type, meta: IntegrationMetadata) -> Iterator[Problem]:
    """Credentials, caching and the `execute` method."""
    if meta.credentials_strategy is not None and meta.credentials_strategy not in STRATEGIES:
        yield (
            f"unknown credentials strategy {meta.credentials_strategy!r}.",
            f"One of: {', '.join(STRATEGIES)}.",
            "integrations.E109",
        )
    if meta.credentials_required and not (meta.credentials_provider or meta.credentials_setting):
        yield (
            "credentials are required but no provider or setting is named.",
            "Set credentials_provider (and/or credentials_setting).",
            "integrations.E109",
        )
    if meta.cache_ttl is not None:
        if meta.side_effecting:
            yield "a side-effecting integration cannot be cached.", "Drop cache_ttl.", "integrations.E110"
        elif not isinstance(meta.cache_ttl, int) or isinstance(meta.cache_ttl, bool) or meta.cache_ttl <= 0:
            yield (
                f"cache_ttl must be a positive number of seconds, not {meta.cache_ttl!r}.",
                "Use e.g. 600, or None for no cache.",
                "integrations.E110",
            )
    if cls.execute is BaseIntegration.execute:
        yield (
            "execute() is not implemented.",
            "Implement execute(config, *, owner=None, context=None).",
            "integrations.E111",
        )


def _check_metadata(cls: type, meta: IntegrationMetadata) -> list[checks.CheckMessage]:
    label = _label(cls)
    problems = [*_identity_problems(meta), *_schema_problems(meta), *_behaviour_problems(cls, meta)]
    return [checks.Error(f"{label}: {message}", hint=hint, obj=cls, id=id_) for message, hint, id_ in problems]


def check_registry(reg: IntegrationRegistry) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for module, problem in reg.import_errors:
        errors.append(
            checks.Error(
                f"Integration module {module} failed to import: {problem}",
                hint="Fix the module; its integrations are not available.",
                id="integrations.E101",
            )
        )
    by_id: dict[str, list[type]] = defaultdict(list)
    for cls in reg.registered_classes():
        meta = getattr(cls, "metadata", None)
        if not isinstance(meta, IntegrationMetadata):
            errors.append(
                checks.Error(
                    f"{_label(cls)} declares no IntegrationMetadata.",
                    hint="Set `metadata = IntegrationMetadata(...)` on the class.",
                    obj=cls,
                    id="integrations.E102",
                )
            )
            continue
        by_id[meta.id].append(cls)
        errors.extend(_check_metadata(cls, meta))
    for integration_id, classes in by_id.items():
        if len(classes) > 1:
            names = ", ".join(_label(cls) for cls in classes)
            errors.append(
                checks.Error(
                    f"Integration id {integration_id!r} is declared more than once: {names}.",
                    hint="Each integration needs its own id.",
                    obj=classes[1],
                    id="integrations.E100",
                )
            )
    return errors


@checks.register(TAG)
def check_integrations(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    return check_registry(registry)
