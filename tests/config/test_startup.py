"""Without SECRET_KEY and with DEBUG off, servers refuse to start; key-less commands still run."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.timeout(60)


def run(code: str, **extra_env: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("SECRET_KEY", "CREDENTIAL_HASH_KEY")}
    env["DEBUG"] = "0"
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
        timeout=45,  # a worker that does not refuse would run on
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


@pytest.mark.parametrize("entry_point", ["config.wsgi", "config.asgi"])
@pytest.mark.parametrize("key", ["change-me-to-a-long-random-string", "short-key"])
def test_a_server_refuses_the_placeholder_key_of_the_example_or_a_short_one(entry_point, key):
    result = run(f"import {entry_point}", SECRET_KEY=key)

    assert result.returncode != 0
    assert "SECRET_KEY is the example's placeholder or shorter than 32 characters" in result.stderr
    assert "secrets.token_urlsafe(50)" in result.stderr


def test_a_celery_worker_refuses_the_placeholder_key_too():
    result = run(
        "import sys; sys.argv = ['celery', '-A', 'config', 'worker', '--pool', 'solo', '-l', 'warning']; "
        "from celery.bin.celery import main; main()",
        SECRET_KEY="change-me-to-a-long-random-string",
    )

    assert result.returncode != 0
    assert "placeholder" in result.stderr


def test_a_real_key_starts():
    result = run("import config.wsgi", SECRET_KEY="k" * 50)

    assert result.returncode == 0, result.stderr
