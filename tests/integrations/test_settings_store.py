import logging
import os
import subprocess
import sys
import textwrap
import threading
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.test import override_settings

from config.errors import DomainError
from integrations.models import Setting
from integrations.secrets import reencryption, services, settings_store
from integrations.secrets.settings_store import SettingInvalid, SettingNotFound, setting_get, value_clean

BOT_TOKEN = "123456789:AAEhBP0av28Q-secret-bot-token-xyz"


def raw_columns(key: str) -> tuple:
    """The row exactly as PostgreSQL holds it, bypassing the model."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT value, value_encrypted FROM integrations_setting WHERE key = %s", [key])
        return cursor.fetchone()


class FakeClock:
    """A monotonic clock the test moves by hand: `refresh seconds` become explicit steps."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# ------------------------------------------------------------------------------ typed values


@pytest.mark.parametrize(
    ("type_", "raw", "expected"),
    [
        ("str", "hello", "hello"),
        ("str", "", ""),
        ("secret", "s3cr3t", "s3cr3t"),
        ("int", "42", 42),
        ("int", " -7 ", -7),
        ("int", 5, 5),
        ("float", "2.5", 2.5),
        ("float", 3, 3.0),
        ("bool", "yes", True),
        ("bool", "OFF", False),
        ("bool", "1", True),
        ("bool", False, False),
        ("url", "https://x.webim.ru", "https://x.webim.ru"),
        ("json", '{"chat_id": 1, "tags": ["a"]}', {"chat_id": 1, "tags": ["a"]}),
        ("json", [1, 2], [1, 2]),
    ],
)
def test_a_value_is_parsed_into_its_type(type_, raw, expected):
    value = value_clean(type_, raw, key="K")

    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("type_", "raw", "message"),
    [
        ("int", "abc", "K must be a whole number, got 'abc'."),
        ("int", "4.5", "K must be a whole number, got '4.5'."),
        ("int", True, "K must be a whole number, got 'True'."),
        ("float", "nan", "K must be a finite number, got 'nan'."),
        ("float", "ten", "K must be a finite number, got 'ten'."),
        ("bool", "maybe", "K must be true or false (or yes/no, on/off, 1/0), got 'maybe'."),
        ("url", "ftp://example.com", "K must be an http(s) URL, got 'ftp://example.com'."),
        ("url", "not a url", "K must be an http(s) URL, got 'not a url'."),
        (
            "json",
            "{bad",
            "K must be valid JSON (Expecting property name enclosed in double quotes at line 1 column 2).",
        ),
        ("str", 12, "K must be text, got '12'."),
        ("secret", "", "K must not be empty."),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_with_a_clear_message(type_, raw, message):
    with pytest.raises(SettingInvalid) as exc:
        value_clean(type_, raw, key="K")

    assert exc.value.detail == message
    assert exc.value.as_payload() == {"value": [message]}


def test_the_error_about_a_secret_value_never_repeats_it():
    with pytest.raises(SettingInvalid) as exc:
        value_clean("int", "my-secret-pin", key="PIN", secret=True)

    assert "my-secret-pin" not in exc.value.detail
    assert exc.value.detail == "PIN must be a whole number."


def test_a_value_is_stored_as_text_and_reads_back_the_same():
    for type_, value in [
        ("int", 42),
        ("float", 0.1),
        ("bool", True),
        ("json", {"a": [1, None]}),
        ("url", "https://x.webim.ru"),
    ]:
        text = settings_store.value_to_text(type_, value)
        assert isinstance(text, str)
        assert value_clean(type_, text) == value


def test_the_model_offers_exactly_the_types_the_store_understands():
    assert sorted(Setting.Type.values) == sorted(settings_store.SETTING_TYPES)


# -------------------------------------------------------------------------------- registry


def test_a_module_can_declare_a_setting_and_declaring_it_again_identically_is_harmless(known_setting):
    spec = known_setting("WEATHER_UNITS", type="str", description="metric or imperial", default="metric")

    assert settings_store.KNOWN_SETTINGS["WEATHER_UNITS"] == spec
    assert (
        settings_store.register_setting("WEATHER_UNITS", type="str", description="metric or imperial", default="metric")
        == spec
    )


def test_declaring_a_setting_twice_differently_is_refused(known_setting):
    known_setting("WEATHER_UNITS", type="str", default="metric")

    with pytest.raises(ImproperlyConfigured, match="already registered"):
        settings_store.register_setting("WEATHER_UNITS", type="int")


@pytest.mark.parametrize(
    ("key", "kwargs", "message"),
    [
        ("lower_case", {}, "upper-case letters"),
        ("GOOD_KEY", {"type": "decimal"}, "unknown type 'decimal'"),
        ("GOOD_KEY", {"type": "int", "default": "ten"}, "Default of setting GOOD_KEY: GOOD_KEY must be a whole number"),
    ],
)
def test_a_bad_declaration_is_refused_at_startup(key, kwargs, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        settings_store.register_setting(key, **kwargs)
    assert key not in settings_store.KNOWN_SETTINGS


def test_the_settings_of_the_original_bridge_are_declared_and_their_tokens_are_secret():
    known = settings_store.KNOWN_SETTINGS
    secrets = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "WEBIM_TOKEN", "OPENWEATHERMAP_API_KEY", "GITHUB_TOKEN")
    for key in secrets:
        assert known[key].secret, key
    assert known["WEBIM_ACCOUNT_URL"].type == "url"


@pytest.mark.django_db
def test_every_declared_setting_gets_a_row_so_the_admin_lists_it_before_a_value_is_stored(known_setting):
    known_setting("WEATHER_CACHE_SECONDS", type="int", description="How long a forecast is reused.", default=600)
    Setting.objects.all().delete()

    created = services.settings_sync_known()

    assert created == len(settings_store.KNOWN_SETTINGS)
    row = Setting.objects.get(key="WEATHER_CACHE_SECONDS")
    assert (row.type, row.description, row.is_secret, row.has_value) == (
        "int",
        "How long a forecast is reused.",
        False,
        False,
    )
    assert Setting.objects.get(key="TELEGRAM_BOT_TOKEN").is_secret
    assert services.settings_sync_known() == 0


@pytest.mark.django_db
def test_a_setting_declared_secret_later_has_its_stored_value_encrypted_by_the_sync(known_setting):
    setting = services.setting_create(key="LEGACY_API_KEY", type="str", value="plain-then-secret")
    known_setting("LEGACY_API_KEY", type="secret", description="Now declared in code.")

    services.settings_sync_known()

    setting.refresh_from_db()
    assert setting.is_secret and setting.type == "secret"
    assert "plain-then-secret" not in str(raw_columns("LEGACY_API_KEY"))
    assert setting_get("LEGACY_API_KEY") == "plain-then-secret"


# ----------------------------------------------------------------------------------- reads


@pytest.mark.django_db
def test_the_database_value_wins_over_the_environment_which_wins_over_the_default(known_setting, monkeypatch):
    known_setting("WEATHER_CACHE_SECONDS", type="int", default=600)
    services.settings_sync_known()
    assert setting_get("WEATHER_CACHE_SECONDS") == 600

    monkeypatch.setenv("WEATHER_CACHE_SECONDS", "300")
    assert setting_get("WEATHER_CACHE_SECONDS") == 300

    services.setting_set(key="WEATHER_CACHE_SECONDS", value="120")
    assert setting_get("WEATHER_CACHE_SECONDS") == 120

    services.setting_set(key="WEATHER_CACHE_SECONDS", value=None)
    assert setting_get("WEATHER_CACHE_SECONDS") == 300


@pytest.mark.django_db
def test_an_empty_environment_variable_counts_as_not_set(known_setting, monkeypatch):
    known_setting("WEATHER_UNITS", default="metric")
    monkeypatch.setenv("WEATHER_UNITS", "")

    assert setting_get("WEATHER_UNITS") == "metric"


@pytest.mark.django_db
def test_an_environment_value_of_the_wrong_type_is_a_clear_error(known_setting, monkeypatch):
    known_setting("WEATHER_CACHE_SECONDS", type="int", default=600)
    monkeypatch.setenv("WEATHER_CACHE_SECONDS", "ten minutes")

    with pytest.raises(SettingInvalid, match="Environment variable WEATHER_CACHE_SECONDS must be a whole number"):
        setting_get("WEATHER_CACHE_SECONDS")


@pytest.mark.django_db
def test_a_known_setting_without_any_value_reads_as_none_or_the_callers_default():
    assert os.environ.get("GITHUB_TOKEN") is None
    assert setting_get("GITHUB_TOKEN") is None
    assert setting_get("GITHUB_TOKEN", "fallback") == "fallback"


@pytest.mark.django_db
def test_an_unknown_setting_is_an_error_unless_the_caller_gives_a_default(monkeypatch):
    with pytest.raises(SettingNotFound, match="Unknown setting NO_SUCH_SETTING"):
        setting_get("NO_SUCH_SETTING")
    assert setting_get("NO_SUCH_SETTING", 7) == 7

    monkeypatch.setenv("NO_SUCH_SETTING", "from-env")
    assert setting_get("NO_SUCH_SETTING") == "from-env"


@pytest.mark.django_db
def test_a_setting_added_in_the_admin_is_read_with_its_own_type():
    services.setting_create(key="OPS_CHAT_ID", type="int", description="Telegram chat of the ops team", value="-100123")

    assert setting_get("OPS_CHAT_ID") == -100123


@pytest.mark.django_db
def test_a_bad_value_is_refused_on_save_and_the_old_value_kept():
    services.setting_create(key="OPS_CHAT_ID", type="int", value=5)

    with pytest.raises(SettingInvalid, match="OPS_CHAT_ID must be a whole number, got 'five'"):
        services.setting_set(key="OPS_CHAT_ID", value="five")

    assert setting_get("OPS_CHAT_ID") == 5


@pytest.mark.django_db
def test_setting_a_value_of_an_undeclared_key_without_a_row_is_not_found():
    with pytest.raises(DomainError, match="Unknown setting NOPE"):
        services.setting_set(key="NOPE", value="x")


@pytest.mark.django_db
def test_the_description_of_a_declared_setting_stays_the_one_in_code():
    services.settings_sync_known()
    setting = Setting.objects.get(key="WEBIM_ACCOUNT_URL")

    with pytest.raises(DomainError, match="declared in code"):
        services.setting_update(setting=setting, description="something else")


# --------------------------------------------------------------------- secrets at rest


@pytest.mark.django_db
def test_a_secret_is_stored_encrypted_and_read_back_in_clear(known_setting):
    services.setting_set(key="TELEGRAM_BOT_TOKEN", value=BOT_TOKEN)

    value, value_encrypted = raw_columns("TELEGRAM_BOT_TOKEN")
    assert value is None
    assert value_encrypted and BOT_TOKEN not in value_encrypted and "secret-bot-token" not in value_encrypted
    assert setting_get("TELEGRAM_BOT_TOKEN") == BOT_TOKEN


@pytest.mark.django_db
def test_a_secret_written_under_an_old_key_is_read_after_rotation_and_reencrypted_under_the_new():
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=[old]):
        services.setting_set(key="WEBIM_TOKEN", value="webim-access-token-0001")
    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=[new, old]):
        settings_store.store.reset()
        assert setting_get("WEBIM_TOKEN") == "webim-access-token-0001"
        assert reencryption.secrets_reencrypt().counts["secret settings"] == 1
    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=[new]):
        settings_store.store.reset()
        assert setting_get("WEBIM_TOKEN") == "webim-access-token-0001"


@pytest.mark.django_db
def test_a_secret_no_key_can_decrypt_is_a_clear_error_naming_the_setting_not_its_value():
    from cryptography.fernet import Fernet

    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]):
        services.setting_set(key="WEBIM_TOKEN", value="webim-access-token-0002")
    settings_store.store.reset()

    with pytest.raises(DomainError) as exc:
        setting_get("WEBIM_TOKEN")
    assert "Setting WEBIM_TOKEN cannot be decrypted" in exc.value.detail


@pytest.mark.django_db
def test_a_saved_secret_never_appears_in_the_logs(caplog, django_user_model):
    caplog.set_level(logging.DEBUG)
    user = django_user_model.objects.create(username="ops")

    services.setting_set(key="TELEGRAM_BOT_TOKEN", value=BOT_TOKEN, updated_by=user)
    setting_get("TELEGRAM_BOT_TOKEN")
    with pytest.raises(SettingInvalid):
        services.setting_create(key="PIN_CODE", type="int", is_secret=True, value=BOT_TOKEN)

    assert any(r.getMessage() == "integration setting changed" for r in caplog.records)
    assert BOT_TOKEN not in caplog.text
    for record in caplog.records:
        assert BOT_TOKEN not in str(record.__dict__)


# ----------------------------------------------------------- per-process cache and refresh


@pytest.mark.django_db
def test_reads_are_served_from_memory_once_loaded(django_assert_num_queries):
    services.setting_create(key="OPS_CHAT_ID", type="int", value=1)
    local = settings_store.SettingsStore(clock=FakeClock())
    local.get("OPS_CHAT_ID")

    with django_assert_num_queries(0):
        for _ in range(100):
            assert local.get("OPS_CHAT_ID") == 1


@pytest.mark.django_db(transaction=True)
def test_another_process_sees_a_change_at_its_next_check_and_not_before():
    """`other` stands for another process: its own memory, the same database and Redis."""
    services.setting_create(key="OPS_CHAT_ID", type="int", value=1)
    clock = FakeClock()
    other = settings_store.SettingsStore(refresh_seconds=2.0, clock=clock)
    assert other.get("OPS_CHAT_ID") == 1
    loads = other.loads

    services.setting_set(key="OPS_CHAT_ID", value=2)
    clock.advance(1.0)
    assert other.get("OPS_CHAT_ID") == 1  # still trusting its copy
    clock.advance(1.0)
    assert other.get("OPS_CHAT_ID") == 2
    assert other.loads == loads + 1


@pytest.mark.django_db(transaction=True)
def test_a_process_does_not_reload_while_the_shared_stamp_is_unchanged(django_assert_num_queries):
    services.setting_create(key="OPS_CHAT_ID", type="int", value=1)
    clock = FakeClock()
    other = settings_store.SettingsStore(refresh_seconds=2.0, clock=clock)
    other.get("OPS_CHAT_ID")

    for _ in range(5):
        clock.advance(10)
        with django_assert_num_queries(0):
            assert other.get("OPS_CHAT_ID") == 1
    assert other.loads == 1


@pytest.mark.django_db(transaction=True)
def test_a_flushed_cache_makes_every_process_reload_rather_than_miss_changes():
    from django.core.cache import cache

    services.setting_create(key="OPS_CHAT_ID", type="int", value=1)
    clock = FakeClock()
    other = settings_store.SettingsStore(refresh_seconds=2.0, clock=clock)
    other.get("OPS_CHAT_ID")
    Setting.objects.filter(key="OPS_CHAT_ID").update(value="3")  # bypasses signals, like a manual SQL fix
    cache.clear()

    clock.advance(2.0)
    assert other.get("OPS_CHAT_ID") == 3


@pytest.mark.django_db(transaction=True)
def test_with_the_cache_down_settings_are_still_read_from_the_database():
    services.setting_create(key="OPS_CHAT_ID", type="int", value=1)
    clock = FakeClock()
    other = settings_store.SettingsStore(refresh_seconds=2.0, clock=clock)
    dead_redis = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }
    with override_settings(CACHES=dead_redis):
        assert other.get("OPS_CHAT_ID") == 1
        services.setting_set(key="OPS_CHAT_ID", value=2)
        clock.advance(2.0)
        assert other.get("OPS_CHAT_ID") == 2


@pytest.mark.django_db(transaction=True)
def test_the_writing_process_sees_its_change_at_once_and_a_rolled_back_change_never():
    services.setting_create(key="OPS_CHAT_ID", type="int", value=1)
    assert setting_get("OPS_CHAT_ID") == 1

    with pytest.raises(RuntimeError), transaction.atomic():
        services.setting_set(key="OPS_CHAT_ID", value=2)
        assert setting_get("OPS_CHAT_ID") == 2
        raise RuntimeError("roll back")

    assert setting_get("OPS_CHAT_ID") == 1
    services.setting_set(key="OPS_CHAT_ID", value=3)
    assert setting_get("OPS_CHAT_ID") == 3


@pytest.mark.django_db(transaction=True)
def test_other_threads_never_see_an_uncommitted_value_and_the_writer_sees_its_own():
    services.setting_create(key="OPS_CHAT_ID", type="int", value=1)
    seen_by_other_thread = []

    def read_in_another_thread():
        try:
            seen_by_other_thread.append(setting_get("OPS_CHAT_ID"))
        finally:
            connection.close()

    with transaction.atomic():
        services.setting_set(key="OPS_CHAT_ID", value=2)
        other = threading.Thread(target=read_in_another_thread)
        other.start()
        other.join()
        assert setting_get("OPS_CHAT_ID") == 2

    assert seen_by_other_thread == [1]
    assert setting_get("OPS_CHAT_ID") == 2


_READER = textwrap.dedent(
    """
    import json, sys, time
    import django
    django.setup()
    from integrations.secrets.settings_store import setting_get

    keys = sys.argv[1:]
    def read():
        return {key: setting_get(key) for key in keys}

    before = read()
    print(json.dumps(before), flush=True)
    sys.stdin.readline()  # the test has committed its change
    deadline = time.monotonic() + 60
    while read() == before and time.monotonic() < deadline:
        time.sleep(0.05)
    print(json.dumps(read()), flush=True)
    """
)


@pytest.mark.django_db(transaction=True)
def test_a_change_reaches_a_separate_running_process_without_a_restart():
    import json

    services.setting_create(key="OPS_CHAT_ID", type="int", value=1)
    services.setting_set(key="TELEGRAM_BOT_TOKEN", value="old-token-aaaaaaaaaaaaaaaa")
    database_url = urlsplit(os.environ["DATABASE_URL"])
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # pytest-django's test database, where this test's rows are committed.
        "DATABASE_URL": urlunsplit(database_url._replace(path="/" + settings.DATABASES["default"]["NAME"])),
        "INTEGRATIONS_SETTINGS_REFRESH_SECONDS": "0.2",
    }
    reader = subprocess.Popen(
        [sys.executable, "-c", _READER, "OPS_CHAT_ID", "TELEGRAM_BOT_TOKEN"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=settings.BASE_DIR,
    )
    try:
        before = json.loads(reader.stdout.readline() or "null")
        assert before == {"OPS_CHAT_ID": 1, "TELEGRAM_BOT_TOKEN": "old-token-aaaaaaaaaaaaaaaa"}, reader.stderr.read()

        services.setting_set(key="OPS_CHAT_ID", value=2)
        services.setting_set(key="TELEGRAM_BOT_TOKEN", value="new-token-bbbbbbbbbbbbbbbb")
        reader.stdin.write("changed\n")
        reader.stdin.flush()

        after = json.loads(reader.stdout.readline() or "null")
        assert after == {"OPS_CHAT_ID": 2, "TELEGRAM_BOT_TOKEN": "new-token-bbbbbbbbbbbbbbbb"}
    finally:
        reader.kill()
        reader.wait()


def test_the_refresh_interval_comes_from_the_settings():
    with override_settings(INTEGRATIONS_SETTINGS_REFRESH_SECONDS=7.5):
        assert settings_store.SettingsStore().refresh_seconds == 7.5
