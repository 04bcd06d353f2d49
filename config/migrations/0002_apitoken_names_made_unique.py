"""One API token per user and name.

Until now every login added an unnamed token. Existing tokens are all kept working: in each
group of one user's tokens with the same name, the most recently used (else newest) keeps the
name, the others get a unique one ("<name> #<id>"); tokens without a name become
"unnamed #<id>", so that no existing token is replaced by the next login under the default name.
"""

from django.db import migrations, models

NAME_MAX_LENGTH = 100


def _unique_name(base: str, token_id: int, taken: set) -> str:
    suffix = f" #{token_id}"
    name = f"{base[: NAME_MAX_LENGTH - len(suffix)]}{suffix}"
    n = 1
    while name in taken:
        extra = f" #{token_id}-{n}"
        name = f"{base[: NAME_MAX_LENGTH - len(extra)]}{extra}"
        n += 1
    return name


def make_names_unique(apps, schema_editor):
    ApiToken = apps.get_model("switchboard", "ApiToken")
    tokens = ApiToken.objects.order_by("user_id", models.F("last_used_at").desc(nulls_last=True), "-created_at", "-id")
    taken: dict[int, set] = {}
    for token in tokens.only("id", "user_id", "name", "last_used_at", "created_at"):
        names = taken.setdefault(token.user_id, set())
        if token.name and token.name not in names:
            names.add(token.name)
            continue
        token.name = _unique_name(token.name or "unnamed", token.id, names)
        names.add(token.name)
        token.save(update_fields=["name"])


class Migration(migrations.Migration):
    # The schema change is the next migration: PostgreSQL refuses to ALTER a table with row
    # updates still pending their deferred foreign-key checks in the same transaction.

    dependencies = [
        ("switchboard", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(make_names_unique, migrations.RunPython.noop),
    ]
