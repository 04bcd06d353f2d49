"""Key rotation: every value encrypted with INTEGRATIONS_ENCRYPTION_KEYS, re-encrypted under the
first key, so that the others can be removed.

    1. put the new key first: INTEGRATIONS_ENCRYPTION_KEYS=<new>,<old> (every process);
    2. python manage.py secrets_reencrypt      (says what it did, and whether any is unreadable)
    3. remove the old key: INTEGRATIONS_ENCRYPTION_KEYS=<new>

Encrypted columns are listed once, in ENCRYPTED_COLUMNS: a new one added to a model must be
added there, or rotating the keys would make it unreadable (tests/integrations/
test_key_rotation.py rotates every kind and uses each afterwards).
"""

import dataclasses
import logging

from django.db import transaction

from integrations.models import Credential, IntegrationRun, Setting, WebhookSecret
from integrations.secrets import crypto

logger = logging.getLogger(__name__)

# (what, model, column): every column holding a value encrypted by integrations.crypto.
ENCRYPTED_COLUMNS = (
    ("secret settings", Setting, "value_encrypted"),
    ("credentials", Credential, "secret_encrypted"),
    ("webhook signing secrets", WebhookSecret, "secret_encrypted"),
    ("configs of unfinished runs", IntegrationRun, "config_sealed"),
)
BATCH = 500


@dataclasses.dataclass
class Reencrypted:
    counts: dict[str, int] = dataclasses.field(default_factory=dict)
    unreadable: list[str] = dataclasses.field(default_factory=list)  # "credentials #12"


def secrets_reencrypt() -> Reencrypted:
    """Re-encrypt every encrypted value under the first configured key, batch by batch (a value
    written meanwhile is written under the first key anyway). A value no configured key can
    decrypt is left as it is and named in the result: it was unreadable before and stays so."""
    report = Reencrypted()
    for what, model, column in ENCRYPTED_COLUMNS:
        report.counts[what] = 0
        last_pk = None
        while True:
            with transaction.atomic():
                rows = model.objects.select_for_update().exclude(**{column: ""}).order_by("pk").only("pk", column)
                if last_pk is not None:
                    rows = rows.filter(pk__gt=last_pk)
                batch = list(rows[:BATCH])
                if not batch:
                    break
                changed = []
                for row in batch:
                    try:
                        setattr(row, column, crypto.reencrypt(getattr(row, column)))
                    except crypto.DecryptionFailed:
                        report.unreadable.append(f"{what} #{row.pk}")
                        continue
                    changed.append(row)
                model.objects.bulk_update(changed, [column])
                report.counts[what] += len(changed)
                last_pk = batch[-1].pk
    logger.info(
        "encrypted values re-encrypted under the first key",
        extra={"counts": report.counts, "unreadable": report.unreadable[:50]},
    )
    return report


def secrets_not_under_first_key() -> list[str]:
    """Values the first key alone cannot decrypt: empty once removing the other keys is safe."""
    found = []
    for what, model, column in ENCRYPTED_COLUMNS:
        for pk, token in model.objects.exclude(**{column: ""}).order_by("pk").values_list("pk", column).iterator():
            if not crypto.is_under_first_key(token):
                found.append(f"{what} #{pk}")
    return found
