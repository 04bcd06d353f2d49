"""Without SECRET_KEY and with DEBUG off, servers refuse to start; key-less commands still run."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.timeout(60)


def run(code: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("SECRET_KEY", "CREDENTIAL_HASH_KEY")}
    env["DEBUG"] = "0"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("entry_point", ["config.wsgi", "config.asgi"])
def test_a_server_refuses_to_start_without_a_secret_key(entry_point):
    result = run(f"import {entry_point}")

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_commands_that_need_no_key_still_run():
    result = run(
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); "
        "django.setup(); from django.core.management import call_command; "
        "call_command('makemigrations', '--check', '--dry-run', verbosity=0)"
    )

    assert result.returncode == 0, result.stderr
