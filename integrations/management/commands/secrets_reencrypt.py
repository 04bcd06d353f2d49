"""python manage.py secrets_reencrypt: the middle step of rotating INTEGRATIONS_ENCRYPTION_KEYS."""

from django.core.management.base import BaseCommand, CommandError

from integrations.secrets import reencryption


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted value (secret settings, credentials, webhook signing secrets, configs "
        "of unfinished runs) under the first key of INTEGRATIONS_ENCRYPTION_KEYS, so the others can be "
        "removed. With --check, only say whether any value still needs a key other than the first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Change nothing; exit 1 if a value needs an old key.")

    def handle(self, *args, check: bool = False, **options):
        if not check:
            report = reencryption.secrets_reencrypt()
            for what, count in report.counts.items():
                self.stdout.write(f"{what}: {count} re-encrypted")
        pending = reencryption.secrets_not_under_first_key()
        if pending:
            raise CommandError(
                f"{len(pending)} value(s) cannot be read with the first key alone ({', '.join(pending[:20])}): "
                "keep the other keys until they are re-encrypted, or enter those secrets again."
            )
        self.stdout.write(self.style.SUCCESS("Every encrypted value is under the first key: remove the others."))
