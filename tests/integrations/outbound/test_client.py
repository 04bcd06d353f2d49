"""The failure table of an outbound call: what is retried, how long it waits, what it raises."""

import email.utils
import logging

import pytest

from integrations.outbound import (
    IntegrationAuthError,
    IntegrationBadResponse,
    IntegrationClientError,
    IntegrationConnectionError,
    IntegrationNotFound,
    IntegrationRateLimited,
    IntegrationRequestInvalid,
    IntegrationServerError,
    IntegrationTimeout,
    parse_retry_after,
)


def get(client, url, **kwargs):
    return client.request(integration="weather", operation="current", method="GET", url=url, **kwargs)


def test_a_good_answer_is_parsed_and_says_where_it_came_from(client, httpserver):
    httpserver.expect_request("/weather", query_string="q=Berlin").respond_with_json(
        {"main": {"temp": 21.5}}, headers={"X-Request-Id": "r1"}
    )

    result = get(client, httpserver.url_for("/weather"), params={"q": "Berlin"})

    assert result.ok and result.status == 200
    assert result.data == {"main": {"temp": 21.5}}
    assert result.headers["x-request-id"] == "r1"
    assert (result.source, result.stale, result.attempts) == ("api", False, 1)
    assert result.duration_ms >= 0


def test_connection_errors_are_retried_with_growing_jittered_waits_then_raise(client, refused_url, waits, settings):
    settings.INTEGRATIONS_RETRY_ATTEMPTS = 4

    with pytest.raises(IntegrationConnectionError) as raised:
        get(client, refused_url)

    assert raised.value.attempts == 4
    assert raised.value.status_code == 503
    assert "could not be reached" in raised.value.detail
    base = settings.INTEGRATIONS_RETRY_BASE_WAIT_SECONDS
    assert len(waits) == 3
    for retry, wait in enumerate(waits):
        assert base * 2**retry <= wait <= base * 2**retry + base


def test_backoff_is_capped_by_the_max_wait(client, refused_url, waits, settings):
    settings.INTEGRATIONS_RETRY_ATTEMPTS = 5
    settings.INTEGRATIONS_RETRY_BASE_WAIT_SECONDS = 1
    settings.INTEGRATIONS_RETRY_MAX_WAIT_SECONDS = 3

    with pytest.raises(IntegrationConnectionError):
        get(client, refused_url)

    assert len(waits) == 4 and max(waits) <= 3


def test_a_timeout_is_retried_then_raises(client, silent_url, waits):
    with pytest.raises(IntegrationTimeout) as raised:
        get(client, silent_url, timeout=0.05)

    assert raised.value.attempts == 3
    assert raised.value.status_code == 504
    assert len(waits) == 2


def test_429_waits_as_long_as_retry_after_says_then_succeeds(client, httpserver, waits):
    httpserver.expect_ordered_request("/weather").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "7"}
    )
    httpserver.expect_ordered_request("/weather").respond_with_json({"ok": True})

    result = get(client, httpserver.url_for("/weather"))

    assert result.data == {"ok": True}
    assert result.attempts == 2
    assert waits == [7.0]


def test_retry_after_may_be_an_http_date(client, clock, httpserver, waits):
    when = email.utils.formatdate(clock.now + 4, usegmt=True)
    httpserver.expect_ordered_request("/weather").respond_with_data("", status=429, headers={"Retry-After": when})
    httpserver.expect_ordered_request("/weather").respond_with_json({"ok": True})

    assert get(client, httpserver.url_for("/weather")).ok
    assert waits == [4.0]


def test_a_retry_after_longer_than_the_max_wait_gives_up_at_once_and_says_when(client, httpserver, waits):
    httpserver.expect_request("/weather").respond_with_json(
        {"message": "quota"}, status=429, headers={"Retry-After": "120"}
    )

    with pytest.raises(IntegrationRateLimited) as raised:
        get(client, httpserver.url_for("/weather"))

    assert raised.value.retry_after == 120
    assert raised.value.attempts == 1 and waits == []
    assert raised.value.transient is True


def test_a_500_is_retried_and_the_next_answer_wins(client, httpserver):
    httpserver.expect_ordered_request("/weather").respond_with_data("boom", status=500)
    httpserver.expect_ordered_request("/weather").respond_with_json({"temp": 3})

    result = get(client, httpserver.url_for("/weather"))

    assert result.data == {"temp": 3}
    assert result.attempts == 2


def test_a_service_that_always_answers_500_fails_after_every_attempt(client, httpserver, settings):
    httpserver.expect_request("/weather").respond_with_json({"error": "internal"}, status=500)

    with pytest.raises(IntegrationServerError) as raised:
        get(client, httpserver.url_for("/weather"))

    assert len(httpserver.log) == settings.INTEGRATIONS_RETRY_ATTEMPTS
    assert raised.value.attempts == settings.INTEGRATIONS_RETRY_ATTEMPTS
    assert raised.value.status == 500
    assert raised.value.body == {"error": "internal"}
    assert raised.value.detail == "weather answered 500 Internal Server Error."


def test_a_404_is_not_retried(client, httpserver):
    httpserver.expect_request("/weather").respond_with_json({"cod": "404", "message": "city not found"}, status=404)

    with pytest.raises(IntegrationNotFound) as raised:
        get(client, httpserver.url_for("/weather"))

    assert len(httpserver.log) == 1
    assert raised.value.status_code == 404
    assert raised.value.body == {"cod": "404", "message": "city not found"}


def test_a_400_is_not_retried_and_keeps_the_error_body_for_the_provider(client, httpserver):
    httpserver.expect_request("/weather").respond_with_json({"message": "bad query"}, status=400)

    with pytest.raises(IntegrationClientError) as raised:
        get(client, httpserver.url_for("/weather"))

    assert len(httpserver.log) == 1
    assert raised.value.code == "client_error" and raised.value.transient is False
    assert raised.value.body == {"message": "bad query"}


def test_a_401_is_an_auth_error_and_not_retried(client, httpserver):
    httpserver.expect_request("/weather").respond_with_json({"cod": 401, "message": "Invalid API key"}, status=401)

    with pytest.raises(IntegrationAuthError) as raised:
        get(client, httpserver.url_for("/weather"))

    assert len(httpserver.log) == 1
    assert raised.value.code == "unauthorized" and raised.value.status == 401


def test_a_malformed_json_body_is_a_clear_error_and_not_retried(client, httpserver):
    httpserver.expect_request("/weather").respond_with_data(
        "<html>maintenance</html>", status=200, content_type="application/json"
    )

    with pytest.raises(IntegrationBadResponse) as raised:
        get(client, httpserver.url_for("/weather"))

    assert len(httpserver.log) == 1
    assert raised.value.detail == "weather answered 200 with a malformed body."
    assert raised.value.body == "<html>maintenance</html>"


def test_text_and_bytes_answers_are_not_parsed_as_json(client, httpserver):
    httpserver.expect_request("/weather").respond_with_data("plain words")

    assert get(client, httpserver.url_for("/weather"), expect="text").data == "plain words"
    assert get(client, httpserver.url_for("/weather"), expect="bytes").data == b"plain words"


def test_a_post_is_not_repeated_after_a_500_it_may_have_acted_on(client, httpserver):
    httpserver.expect_request("/send", method="POST").respond_with_data("boom", status=500)

    with pytest.raises(IntegrationServerError):
        client.request(
            integration="chat", operation="send", method="POST", url=httpserver.url_for("/send"), json={"text": "hi"}
        )

    assert len(httpserver.log) == 1


def test_a_post_is_not_repeated_after_a_timeout(client, silent_url):
    with pytest.raises(IntegrationTimeout) as raised:
        client.request(integration="chat", operation="send", method="POST", url=silent_url, json={}, timeout=0.05)

    assert raised.value.attempts == 1


def test_a_post_is_repeated_when_it_surely_did_not_arrive(client, httpserver, refused_url):
    httpserver.expect_ordered_request("/send").respond_with_data("", status=429, headers={"Retry-After": "1"})
    httpserver.expect_ordered_request("/send").respond_with_json({"sent": True})

    result = client.request(
        integration="chat", operation="send", method="POST", url=httpserver.url_for("/send"), json={"text": "hi"}
    )
    assert result.data == {"sent": True} and result.attempts == 2

    with pytest.raises(IntegrationConnectionError) as raised:
        client.request(integration="chat", operation="send", method="POST", url=refused_url, json={})
    assert raised.value.attempts == 3


def test_a_post_declared_idempotent_is_retried_like_a_read(client, httpserver):
    httpserver.expect_ordered_request("/graphql").respond_with_data("", status=502)
    httpserver.expect_ordered_request("/graphql").respond_with_json({"data": {}})

    result = client.request(
        integration="gh",
        operation="query",
        method="POST",
        url=httpserver.url_for("/graphql"),
        json={"query": "{}"},
        idempotent=True,
    )

    assert result.attempts == 2


def test_without_raise_for_status_error_answers_are_returned(client, httpserver):
    httpserver.expect_request("/weather").respond_with_json({"description": "Bad Request: chat not found"}, status=400)

    result = get(client, httpserver.url_for("/weather"), raise_for_status=False)

    assert (result.ok, result.status) == (False, 400)
    assert result.data == {"description": "Bad Request: chat not found"}


@pytest.mark.parametrize(
    ("headers", "url_path"),
    [
        ({"Authorization": "Bearer ünïcode-secret-value"}, "/weather"),  # a header httpx cannot encode
        ({"X-Api-Key": "line\r\nbreak"}, "/weather"),  # a header line h11 refuses
    ],
)
def test_a_request_http_cannot_carry_is_a_clear_error_not_a_crash(client, httpserver, headers, url_path):
    with pytest.raises(IntegrationRequestInvalid) as raised:
        get(client, httpserver.url_for(url_path), headers=headers)

    assert raised.value.status_code == 503
    assert raised.value.code == "invalid_request"
    assert "could not be sent" in raised.value.detail
    assert "ünïcode" not in raised.value.detail
    assert httpserver.log == []  # nothing reached the service, and it was not retried


def test_a_request_http_cannot_carry_is_refused_also_when_it_would_be_cached(client, httpserver):
    with pytest.raises(IntegrationRequestInvalid):
        get(client, httpserver.url_for("/weather"), headers={"Authorization": "Bearer ü"}, cache_ttl=60)


def test_bad_names_are_refused_before_any_call(client, httpserver):
    with pytest.raises(ValueError, match="integration"):
        client.request(integration="", operation="x", method="GET", url=httpserver.url_for("/"))
    with pytest.raises(ValueError, match="idempotent"):
        client.request(integration="x", operation="y", method="POST", url=httpserver.url_for("/"), cache_ttl=60)
    assert httpserver.log == []


async def test_the_async_entry_point_follows_the_same_rules(client, httpserver, waits):
    httpserver.expect_ordered_request("/weather").respond_with_data("", status=503, headers={"Retry-After": "2"})
    httpserver.expect_ordered_request("/weather").respond_with_json({"temp": 1})

    result = await client.arequest(
        integration="weather", operation="current", method="GET", url=httpserver.url_for("/weather")
    )

    assert result.data == {"temp": 1} and result.attempts == 2
    assert waits == [2.0]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("5", 5.0),
        (" 0 ", 0.0),
        ("-3", 0.0),
        ("1.5", 1.5),
        ("Wed, 21 Oct 2026 07:28:05 GMT", 5.0),
        ("Wed, 21 Oct 2026 07:27:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
    ],
)
def test_retry_after_values(value, seconds):
    now = email.utils.parsedate_to_datetime("Wed, 21 Oct 2026 07:28:00 GMT").timestamp()
    assert parse_retry_after(value, now=now) == seconds


def test_one_log_line_per_call_with_its_facts_and_no_secret(client, httpserver, caplog):
    caplog.set_level(logging.INFO)
    httpserver.expect_request("/weather").respond_with_json({"ok": True})

    client.request(
        integration="weather",
        operation="current",
        method="POST",
        url=httpserver.url_for("/weather"),
        params={"appid": "KEY-IN-QUERY-123"},
        headers={"Authorization": "Bearer TOKEN-IN-HEADER-456"},
        json={"text": "a private message text"},
        auth=("user", "PASSWORD-789"),
    )

    lines = [r for r in caplog.records if r.name == "integrations.outbound"]
    assert len(lines) == 1
    line = lines[0]
    assert (line.integration, line.operation, line.method, line.status, line.outcome, line.attempt, line.source) == (
        "weather",
        "current",
        "POST",
        200,
        "ok",
        1,
        "api",
    )
    assert line.url == httpserver.url_for("/weather")
    assert isinstance(line.duration_ms, float)
    # Everything the hub logged (the fake service's own access log, "werkzeug", is not ours).
    everything_logged = " ".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records if r.name != "werkzeug")
    for secret in ("KEY-IN-QUERY-123", "TOKEN-IN-HEADER-456", "PASSWORD-789", "private message"):
        assert secret not in everything_logged


def test_failures_are_logged_as_warnings_with_their_outcome(client, refused_url, caplog):
    caplog.set_level(logging.INFO, logger="integrations.outbound")

    with pytest.raises(IntegrationConnectionError):
        get(client, refused_url + "?appid=SECRET")

    (line,) = [r for r in caplog.records if r.name == "integrations.outbound"]
    assert line.levelno == logging.WARNING
    assert (line.outcome, line.status, line.attempt) == ("connection_error", None, 3)
    assert "SECRET" not in caplog.text
