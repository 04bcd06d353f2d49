"""`model_update`: the one way services set the fields a caller may change."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.errors import DomainError
from config.services import model_update
from integrations.models import Credential
from integrations.secrets import services
from tests.factories import OwnerFactory, UserFactory

pytestmark = pytest.mark.django_db

EDITABLE = {"name", "owner", "username"}


@pytest.fixture
def credential():
    return services.credential_create(provider="github", strategy="bearer", secret="t0ken", name="ci")


def test_only_the_fields_that_differ_are_set_and_reported_with_who_changed_them(credential):
    changed, updated = model_update(instance=credential, fields=EDITABLE, data={"name": "ci", "username": "bot"})
    assert (changed, updated) == (["username", "updated_by"], True)  # by nobody: no user was given
    assert credential.username == "bot"


def test_nothing_differs_nothing_is_reported(credential):
    assert model_update(instance=credential, fields=EDITABLE, data={"name": "ci"}) == ([], False)


def test_a_field_the_caller_may_not_change_is_refused_and_nothing_is_set(credential):
    with pytest.raises(DomainError, match="Cannot change provider, strategy."):
        model_update(instance=credential, fields=EDITABLE, data={"provider": "x", "strategy": "basic", "name": "new"})
    assert credential.name == "ci"


def test_a_foreign_key_is_compared_by_id_without_loading_the_related_row(credential):
    owner = OwnerFactory()
    credential.owner = owner
    credential.save()
    credential = Credential.objects.get(pk=credential.pk)  # the owner is not loaded
    with CaptureQueriesContext(connection) as queries:
        assert model_update(instance=credential, fields=EDITABLE, data={"owner": owner}) == ([], False)
    assert len(queries) == 0
    assert model_update(instance=credential, fields=EDITABLE, data={"owner": None}) == (["owner", "updated_by"], True)
    assert credential.owner_id is None


def test_who_changed_it_is_recorded_only_when_something_changed(credential):
    user = UserFactory()
    assert model_update(instance=credential, fields=EDITABLE, data={"name": "ci"}, updated_by=user) == ([], False)
    assert credential.updated_by is None
    changed, _ = model_update(instance=credential, fields=EDITABLE, data={"name": "deploy"}, updated_by=user)
    assert changed == ["name", "updated_by"] and credential.updated_by == user


def test_an_anonymous_user_is_recorded_as_nobody(credential):
    credential.updated_by = UserFactory()
    model_update(instance=credential, fields=EDITABLE, data={"name": "deploy"}, updated_by=AnonymousUser())
    assert credential.updated_by is None
