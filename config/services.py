"""Helpers every app's services share (after HackSoft's Django-Styleguide ``common/services.py``)."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models

from config.errors import DomainError


def model_update(
    *, instance: models.Model, fields: Iterable[str], data: Mapping[str, Any], updated_by=None
) -> tuple[list[str], bool]:
    """Set on ``instance`` those of ``data`` that ``fields`` allows and that differ from what
    it holds. Returns the names of the fields that changed and whether any did; the caller saves
    (with ``update_fields`` = those names), inside its own transaction and error handling.

    A key of ``data`` outside ``fields`` is refused: the caller's API decides what can change.
    ``updated_by`` is recorded only when something changed, on models that keep it (an anonymous
    user is recorded as nobody)."""
    allowed = set(fields)
    unknown = set(data) - allowed
    if unknown:
        raise DomainError(f"Cannot change {', '.join(sorted(unknown))}.")
    changed = []
    for field, value in data.items():
        if _current(instance, field) != _comparable(value, instance._meta.get_field(field)):
            setattr(instance, field, value)
            changed.append(field)
    if changed and any(f.name == "updated_by" for f in instance._meta.concrete_fields):
        instance.updated_by = updated_by if getattr(updated_by, "is_authenticated", False) else None
        changed.append("updated_by")
    return changed, bool(changed)


def _current(instance: models.Model, field: str) -> Any:
    model_field = instance._meta.get_field(field)
    # A foreign key compares by id: reading the related object would cost a query.
    return getattr(instance, model_field.attname if model_field.many_to_one else field)


def _comparable(value: Any, model_field) -> Any:
    if model_field.many_to_one and isinstance(value, models.Model):
        return value.pk
    return value
