"""github.repository against a fake speaking the GitHub REST API's wire format."""

import pytest

from integrations.models import Credential
from integrations.registry import registry
from tests.integrations.providers.fakes import CREDENTIALS, credential_for, fixture

pytestmark = pytest.mark.django_db

REPO = "/repos/octocat/Hello-World"


def repository(config=None, **kwargs):
    return registry.get("github.repository").execute(config or {"repository": "octocat/Hello-World"}, **kwargs)


def test_stars_open_issues_and_last_push_of_a_public_repository_without_a_token(fake_services):
    fake_services.expect_request(
        REPO,
        headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"},
    ).respond_with_json(fixture("github", "repository_hello_world"))

    result = repository()

    assert result.ok, result.error
    assert result.result == {
        "repository": "octocat/Hello-World",
        "stars": 2874,
        "open_issues": 1477,
        "last_push": "2024-09-18T11:30:42Z",
        "url": "https://github.com/octocat/Hello-World",
        "default_branch": "master",
        "private": False,
    }
    ((request, _),) = fake_services.log
    assert "Authorization" not in request.headers


def test_the_stored_token_is_sent_as_a_bearer_token(fake_services):
    credential_for("github")
    fake_services.expect_request(
        REPO,
        headers={"Authorization": f"Bearer {CREDENTIALS['github']['secret']}"},
    ).respond_with_json(fixture("github", "repository_hello_world"))

    assert repository().ok


def test_a_token_in_the_config_overrides_the_stored_one(fake_services):
    credential_for("github")
    fake_services.expect_request(REPO, headers={"Authorization": "Bearer ghp_OneOffToken"}).respond_with_json(
        fixture("github", "repository_hello_world")
    )

    assert repository({"repository": "octocat/Hello-World", "token": "ghp_OneOffToken"}).ok


def test_answers_seen_with_different_tokens_are_cached_apart(fake_services):
    fake_services.expect_request(REPO).respond_with_json(fixture("github", "repository_hello_world"))

    sources = [
        repository().source,
        repository().source,
        repository({"repository": "octocat/Hello-World", "token": "ghp_Other"}).source,
    ]

    assert sources == ["api", "cache", "api"]


def test_an_unknown_repository_is_not_found(fake_services):
    fake_services.expect_request("/repos/octocat/nope").respond_with_json(fixture("github", "not_found"), status=404)

    result = repository({"repository": "octocat/nope"})

    assert (result.ok, result.error.code) == (False, "not_found")


def test_the_rate_limit_403_is_rate_limited_and_does_not_blame_the_token(fake_services):
    credential_for("github")
    fake_services.expect_request(REPO).respond_with_json(
        fixture("github", "rate_limited"), status=403, headers={"X-RateLimit-Remaining": "0"}
    )

    result = repository()

    assert result.error.code == "rate_limited"
    assert result.error.message.startswith("GitHub: API rate limit exceeded")
    assert not Credential.objects.get(provider="github").needs_attention


def test_bad_credentials_flag_the_stored_token(fake_services):
    credential_for("github")
    fake_services.expect_request(REPO).respond_with_json(fixture("github", "bad_credentials"), status=401)

    result = repository()

    assert (result.error.code, result.error.message) == ("unauthorized", "GitHub: Bad credentials")
    credential = Credential.objects.get(provider="github")
    assert credential.needs_attention and "401" in credential.attention_reason
