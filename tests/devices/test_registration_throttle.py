"""Registrations refused for their provisioning secret are throttled per client address and per
owner (429 + Retry-After once over the limit); a registration with the right secret never is."""

import logging
import socket
import time

import pytest
from django.core.cache import cache
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from devices import registration_throttle
from devices.models import Device
from tests.factories import OwnerFactory, registration_payload

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/devices/register/"
LEGACY_REGISTER = "/register/"
PER_CLIENT = 3
PER_OWNER = 5
WINDOW = 60


@pytest.fixture(autouse=True)
def throttle(settings, monkeypatch):
    settings.DEVICES_REGISTRATION_FAILURE_WINDOW_SECONDS = WINDOW
    settings.DEVICES_REGISTRATION_FAILURES_PER_CLIENT = PER_CLIENT
    settings.DEVICES_REGISTRATION_FAILURES_PER_OWNER = PER_OWNER
    settings.TRUSTED_PROXY_COUNT = 0
    # A process that found the cache unreachable leaves it alone for a while; start afresh.
    monkeypatch.setattr(registration_throttle, "_cache_unavailable_until", 0.0)
    return settings


def register(owner, *, secret: str | None, address: str = "127.0.0.1", path: str = REGISTER, **meta):
    headers = {"HTTP_X_PROVISIONING_SECRET": secret} if secret is not None else {}
    slug = owner if isinstance(owner, str) else owner.slug
    return APIClient().post(
        path, registration_payload(owner=slug), format="json", REMOTE_ADDR=address, **headers, **meta
    )


def refuse(times: int, owner, *, address: str = "127.0.0.1", path: str = REGISTER) -> list[int]:
    return [register(owner, secret="wrong-secret", address=address, path=path).status_code for _ in range(times)]


def throttle_keys() -> list:
    return list(get_redis_connection("default").scan_iter(match=cache.make_key("devices:registration-refused:*")))


# ------------------------------------------------------------------------------ per client


def test_past_the_limit_a_client_s_refusals_are_429_with_retry_after(owner):
    assert refuse(PER_CLIENT, owner) == [403] * PER_CLIENT

    throttled = register(owner, secret="another-guess")

    assert throttled.status_code == 429
    seconds = int(throttled["Retry-After"])
    assert 1 <= seconds <= WINDOW
    detail = f"Too many refused registrations from this address; retry in {seconds} seconds."
    assert throttled.json() == {"detail": detail}
    assert not Device.objects.exists()


def test_a_missing_secret_counts_as_a_refusal_too(owner):
    statuses = [register(owner, secret=None).status_code for _ in range(PER_CLIENT + 1)]

    assert statuses == [401] * PER_CLIENT + [429]


def test_the_right_secret_is_never_refused_by_the_throttle_however_many_refusals_came_first(owner):
    """A fleet behind one NAT after a power cut, one of them misconfigured; or the benchmark's
    thousands of registrations from 127.0.0.1."""
    refuse(PER_CLIENT + 2, owner)

    statuses = [register(owner, secret=owner.secret).status_code for _ in range(40)]

    assert statuses == [201] * 40
    assert register(owner, secret="wrong-secret").status_code == 429  # still throttled for refusals


def test_an_owner_that_needs_no_secret_still_registers_from_a_throttled_address(owner):
    open_owner = OwnerFactory(allow_secretless_registration=True)
    refuse(PER_CLIENT + 1, owner)

    assert register(open_owner, secret=None).status_code == 201


def test_another_address_is_not_throttled(owner):
    refuse(PER_CLIENT + 1, owner, address="192.0.2.1")

    assert register(owner, secret="wrong-secret", address="192.0.2.2").status_code == 403


def test_the_window_ends_and_refusals_are_answered_as_before(owner, throttle):
    throttle.DEVICES_REGISTRATION_FAILURE_WINDOW_SECONDS = 1
    refuse(PER_CLIENT, owner)
    assert register(owner, secret="wrong-secret").status_code == 429

    time.sleep(1.2)

    assert register(owner, secret="wrong-secret").status_code == 403


# ------------------------------------------------------------------------------ per owner


def test_a_spray_from_many_addresses_throttles_refusals_for_the_owner_not_its_devices(owner):
    statuses = [register(owner, secret="guess", address=f"198.51.100.{i}").status_code for i in range(PER_OWNER + 2)]

    assert statuses == [403] * PER_OWNER + [429, 429]
    over = register(owner, secret="guess", address="198.51.100.200")
    assert over.json()["detail"].startswith("Too many refused registrations for this owner")
    # The owner's devices, from anywhere — the sprayers' addresses included — still register.
    assert register(owner, secret=owner.secret, address="203.0.113.9").status_code == 201
    assert register(owner, secret=owner.secret, address="198.51.100.1").status_code == 201
    # Another owner is not affected.
    assert register(OwnerFactory(), secret="guess", address="203.0.113.10").status_code == 403


def test_an_unknown_owner_is_counted_like_a_known_one_so_the_throttle_tells_nothing():
    statuses = [register("no-such-owner", secret="guess", address=f"198.51.100.{i}").status_code for i in range(7)]

    assert statuses == [403] * PER_OWNER + [429, 429]


# ------------------------------------------------------------------------------ seed-compatible


def test_the_seed_compatible_registration_is_throttled_the_same_way(owner):
    assert refuse(PER_CLIENT, owner, path=LEGACY_REGISTER) == [403] * PER_CLIENT

    throttled = register(owner, secret="wrong-secret", path=LEGACY_REGISTER)

    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) >= 1
    assert list(throttled.json()) == ["detail"]
    assert register(owner, secret=owner.secret, path=LEGACY_REGISTER).status_code == 200


def test_the_api_and_the_seed_compatible_path_share_the_counters(owner):
    refuse(PER_CLIENT - 1, owner, path=LEGACY_REGISTER)
    refuse(1, owner)

    assert register(owner, secret="wrong-secret").status_code == 429


# ------------------------------------------------------------------------------ cost, failure, logs


def test_an_accepted_registration_writes_nothing_to_the_throttle(owner):
    for _ in range(5):
        assert register(owner, secret=owner.secret).status_code == 201

    assert throttle_keys() == []


def test_a_refusal_s_counters_expire_with_their_window(owner):
    refuse(1, owner)

    keys = throttle_keys()
    redis = get_redis_connection("default")
    assert len(keys) == 2  # the address and the owner
    assert all(0 < redis.ttl(key) <= WINDOW for key in keys)


def test_with_the_cache_unreachable_the_throttle_is_open_and_registration_answers_as_without_it(
    owner, settings, caplog
):
    with socket.socket() as probe:  # a port on this machine with nothing listening
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{dead_port}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }

    with caplog.at_level(logging.WARNING):
        started = time.monotonic()
        statuses = [register(owner, secret="wrong-secret").status_code for _ in range(PER_CLIENT + 3)]
        elapsed = time.monotonic() - started

    assert statuses == [403] * (PER_CLIENT + 3)
    unavailable = [r for r in caplog.records if r.getMessage() == "registration throttle unavailable"]
    assert len(unavailable) == 1  # then it leaves the cache alone for a while
    assert elapsed < 5


def test_the_log_names_the_throttled_address_and_owner_once_and_never_the_secret(owner, caplog):
    guess = "a-guessed-secret-value"
    with caplog.at_level(logging.INFO):
        for _ in range(PER_CLIENT + 3):
            register(owner, secret=guess)

    throttled = [r for r in caplog.records if r.getMessage() == "registration throttled"]
    # Each counter once, by the refusal that went over its limit.
    assert [(r.scope, r.client, r.owner, r.failures) for r in throttled] == [
        ("client", "127.0.0.1", owner.slug, PER_CLIENT + 1),
        ("owner", "127.0.0.1", owner.slug, PER_OWNER + 1),
    ]
    assert all(1 <= r.retry_after <= WINDOW for r in throttled)
    for record in caplog.records:
        logged = f"{record.getMessage()} {record.__dict__}"
        assert guess not in logged and owner.secret not in logged


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(owner, throttle):
    throttle.TRUSTED_PROXY_COUNT = 1
    nginx = "10.0.0.2"
    for _ in range(PER_CLIENT):
        register(owner, secret="wrong", address=nginx, HTTP_X_FORWARDED_FOR="198.51.100.7")

    assert register(owner, secret="wrong", address=nginx, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429
    assert register(owner, secret="wrong", address=nginx, HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 403
