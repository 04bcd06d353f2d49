"""The migration to one API token per user and name keeps every existing token working."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from rest_framework.test import APIClient

from config.credentials import credential_digest
from tests.factories import UserFactory

BEFORE = [("switchboard", "0001_initial")]
AFTER = [("switchboard", "0003_apitoken_one_per_user_and_name")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_duplicate_names_become_unique_and_no_token_is_revoked():
    alice = UserFactory(permissions=["devices.view_device"])
    bob = UserFactory(permissions=["devices.view_device"])
    old_apps = migrate(BEFORE)
    try:
        ApiToken = old_apps.get_model("switchboard", "ApiToken")
        now = timezone.now()
        rows = [
            # (user, name, last used) — every login used to add one more unnamed token
            (alice, "", None),
            (alice, "", now - dt.timedelta(days=1)),
            (alice, "", now),
            (alice, "ci", None),
            (alice, "ci", now),
            (alice, "laptop", None),
            (bob, "", None),
            (bob, "ci", None),
        ]
        raws = {}
        for i, (user, name, last_used_at) in enumerate(rows):
            raw = f"raw-token-{i}"
            token = ApiToken.objects.create(
                user_id=user.pk, name=name, digest=credential_digest(raw), prefix=raw[:8], last_used_at=last_used_at
            )
            raws[token.pk] = raw
    finally:
        new_apps = migrate(AFTER)

    ApiToken = new_apps.get_model("switchboard", "ApiToken")
    tokens = {t.pk: t for t in ApiToken.objects.all()}
    assert set(tokens) == set(raws)  # nothing deleted
    names = [(t.user_id, t.name) for t in tokens.values()]
    assert len(names) == len(set(names))  # unique per user
    by_raw = {raws[pk]: t.name for pk, t in tokens.items()}
    assert by_raw["raw-token-4"] == "ci"  # the most recently used keeps its name
    assert by_raw["raw-token-3"] == f"ci #{next(pk for pk, r in raws.items() if r == 'raw-token-3')}"
    assert by_raw["raw-token-5"] == "laptop"
    assert by_raw["raw-token-7"] == "ci"
    # Unnamed tokens get a name no login uses, so that none is replaced by surprise.
    unnamed = {f"raw-token-{i}" for i in (0, 1, 2, 6)}
    assert all(by_raw[raw].startswith("unnamed #") for raw in unnamed)
    assert "default" not in by_raw.values()
    for raw in raws.values():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
        assert client.get("/api/v1/devices/").status_code == 200
