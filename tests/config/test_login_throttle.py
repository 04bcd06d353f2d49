"""Failed logins are throttled per account and per client address (django-axes, in the database):
POST /api/v1/auth/token/ answers 429 JSON with Retry-After, the admin login a 429 page."""

import datetime as dt
import logging
import time

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from config.models import ApiToken
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/token/"
ADMIN_LOGIN = reverse("admin:login")
PASSWORD = "correct-horse-battery"  # what UserFactory sets
WRONG = "Tr0ub4dor&3-not-it"
LIMIT = 3


@pytest.fixture(autouse=True)
def throttle(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = dt.timedelta(seconds=60)
    settings.TRUSTED_PROXY_COUNT = 0
    return settings


@pytest.fixture
def alice():
    return UserFactory(username="alice-on-call", is_staff=True, is_superuser=True)


def api_login(username: str, password: str, *, address: str = "127.0.0.1", **meta):
    return APIClient().post(
        LOGIN, {"username": username, "password": password}, format="json", REMOTE_ADDR=address, **meta
    )


def lock_out(username: str, *, address: str = "127.0.0.1", **meta):
    """LIMIT wrong passwords: all but the last answered 401; returns the last answer."""
    for _ in range(LIMIT - 1):
        assert api_login(username, WRONG, address=address, **meta).status_code == 401
    return api_login(username, WRONG, address=address, **meta)


# ------------------------------------------------------------------------------ the API


def test_the_failure_that_reaches_the_limit_and_every_attempt_after_it_are_429(alice):
    locked = lock_out(alice.username)

    assert locked.status_code == 429
    seconds = int(locked["Retry-After"])
    assert 55 <= seconds <= 60
    assert locked.json() == {"detail": f"Too many failed login attempts. Try again in {seconds} seconds."}
    right_password = api_login(alice.username, PASSWORD)
    assert right_password.status_code == 429
    assert "token" not in right_password.json()
    assert not ApiToken.objects.exists()


def test_an_account_is_locked_from_every_address(alice):
    lock_out(alice.username, address="192.0.2.1")

    assert api_login(alice.username, PASSWORD, address="192.0.2.2").status_code == 429
    assert api_login(UserFactory().username, PASSWORD, address="192.0.2.2").status_code == 201


def test_an_address_is_locked_for_every_account(alice):
    for username in ("nobody", "root", alice.username):
        api_login(username, WRONG, address="192.0.2.1")
    bob = UserFactory()

    assert api_login(bob.username, PASSWORD, address="192.0.2.1").status_code == 429
    assert api_login(bob.username, PASSWORD, address="192.0.2.2").status_code == 201


def test_a_success_does_not_wipe_the_failures_counted_before_it(alice):
    for _ in range(LIMIT - 1):
        api_login(alice.username, WRONG)

    assert api_login(alice.username, PASSWORD).status_code == 201
    assert api_login(alice.username, WRONG).status_code == 429


def test_the_lockout_ends_on_time_even_while_attempts_go_on(alice, throttle):
    throttle.AXES_COOLOFF_TIME = dt.timedelta(seconds=2)
    assert lock_out(alice.username).status_code == 429
    started = time.monotonic()

    time.sleep(1.0)
    assert api_login(alice.username, PASSWORD).status_code == 429  # refused, and not counted
    time.sleep(max(0.0, 2.2 - (time.monotonic() - started)))

    assert api_login(alice.username, PASSWORD).status_code == 201


def test_an_admin_lifts_a_lockout_with_axes_reset(alice):
    assert lock_out(alice.username).status_code == 429

    call_command("axes_reset", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert api_login(alice.username, PASSWORD).status_code == 201


def test_the_log_says_who_was_locked_out_by_ids_and_never_the_password(alice, caplog):
    with caplog.at_level(logging.DEBUG):
        lock_out(alice.username)
        api_login(alice.username, PASSWORD)

    locked = [r for r in caplog.records if r.getMessage() == "login locked out"]
    assert len(locked) == 1  # once per lockout, not per refused attempt
    assert (locked[0].user_id, locked[0].client, locked[0].path) == (alice.pk, "127.0.0.1", LOGIN)
    assert locked[0].failures == LIMIT and 1 <= locked[0].retry_after <= 60
    for record in caplog.records:
        logged = f"{record.getMessage()} {record.__dict__}"
        assert WRONG not in logged and PASSWORD not in logged
        assert alice.username not in logged  # a typed username may be a mistyped password


def test_a_lockout_of_an_unknown_username_logs_no_user(caplog):
    with caplog.at_level(logging.WARNING):
        lock_out("no-such-person")

    [locked] = [r for r in caplog.records if r.getMessage() == "login locked out"]
    assert locked.user_id is None


# ------------------------------------------------------------------------------ the admin


def admin_login(username: str, password: str, address: str = "127.0.0.1"):
    return Client().post(ADMIN_LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_the_admin_login_answers_a_lockout_page_with_429(alice):
    for _ in range(LIMIT - 1):
        assert admin_login(alice.username, WRONG).status_code == 200  # the form, with its error

    locked = admin_login(alice.username, WRONG)

    assert locked.status_code == 429
    assert locked["Content-Type"].startswith("text/html")
    assert 55 <= int(locked["Retry-After"]) <= 60
    assert "admin/login_locked_out.html" in [t.name for t in locked.templates]
    page = locked.content.decode()
    assert "Too many failed login attempts" in page and "Switchboard" in page
    right_password = admin_login(alice.username, PASSWORD)
    assert right_password.status_code == 429
    assert "_auth_user_id" not in right_password.wsgi_request.session


def test_the_admin_lists_the_attempts_and_the_api_and_admin_share_them(alice):
    api_login(alice.username, WRONG)
    api_login(alice.username, WRONG)

    assert admin_login(alice.username, WRONG).status_code == 429  # the third failure, counted across both
    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))
    listing = admin.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200
    assert alice.username in listing.content.decode()


# ------------------------------------------------------------------------------ behind proxies


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(alice, throttle):
    throttle.TRUSTED_PROXY_COUNT = 1
    nginx = "10.0.0.2"
    lock_out("nobody", address=nginx, HTTP_X_FORWARDED_FOR="198.51.100.7")

    # Another client behind the same proxy is not locked out; the locked one is.
    assert api_login(alice.username, PASSWORD, address=nginx, HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 201
    assert api_login(alice.username, PASSWORD, address=nginx, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429


def test_without_trusted_proxies_a_forged_forwarded_address_changes_nothing(alice):
    for forged in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        api_login("nobody", WRONG, address="192.0.2.9", HTTP_X_FORWARDED_FOR=forged)

    response = api_login(alice.username, PASSWORD, address="192.0.2.9", HTTP_X_FORWARDED_FOR="198.51.100.4")

    assert response.status_code == 429
