"""`github.repository`: owner/repo → stars, open issues, last push.

Wire format: `GET /repos/{owner}/{repo}` (headers `Accept: application/vnd.github+json`,
`X-GitHub-Api-Version: 2022-11-28`, optional `Authorization: Bearer <token>`) answers the
repository object (`full_name`, `stargazers_count`, `open_issues_count` — which counts open
pull requests too —, `pushed_at`, ...). Errors are `{"message": "Not Found",
"documentation_url": "...", "status": "404"}`, `{"message": "Bad credentials", ...}` (401), and
for the rate limit a 403 (or 429) whose message starts "API rate limit exceeded".
"""

from django.conf import settings

from integrations import outbound
from integrations.registry import (
    BaseIntegration,
    Category,
    ErrorCode,
    IntegrationMetadata,
    IntegrationResult,
    ResolvedSecret,
    upstream_message,
)

SERVICE = "github"
API_VERSION = "2022-11-28"


class Repository(BaseIntegration):
    service_label = "GitHub"
    metadata = IntegrationMetadata(
        id="github.repository",
        version="1.0.0",
        name="GitHub: repository facts",
        description="Stars, open issues (pull requests included, as GitHub counts them) and last push of a repository.",
        category=Category.STORAGE,
        config_schema={
            "type": "object",
            "properties": {
                "repository": {
                    "type": "string",
                    "pattern": r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$",
                    "description": "owner/name, e.g. octocat/Hello-World",
                },
                "token": {
                    "type": "string",
                    "minLength": 1,
                    "x-secret": True,
                    "writeOnly": True,
                    "description": "Overrides the stored credential, e.g. for a private repository.",
                },
            },
            "required": ["repository"],
            "additionalProperties": False,
        },
        library="httpx through the outbound layer",
        side_effecting=False,
        cache_ttl=300,
        credentials_provider=SERVICE,
        credentials_strategy="bearer",
        credentials_required=False,
        credentials_setting="GITHUB_TOKEN",
    )

    def execute(self, config, *, owner=None, context=None) -> IntegrationResult:
        if config.get("token"):
            secret: ResolvedSecret | None = ResolvedSecret(value=config["token"], origin="config")
        else:
            secret = self.resolve_secret(owner)
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}
        if secret is not None:
            headers["Authorization"] = f"Bearer {secret.value}"
        base_url = settings.INTEGRATIONS_GITHUB_API_URL.rstrip("/")
        try:
            # The default cache key includes the Authorization header (hashed): an answer seen
            # with one token (a private repository) is never served to another caller.
            answer = outbound.request(
                integration=SERVICE,
                operation="repository",
                method="GET",
                url=f"{base_url}/repos/{config['repository']}",
                headers=headers,
                cache_ttl=self.metadata.cache_ttl,
            )
        except outbound.IntegrationNotFound:
            return IntegrationResult.failure(
                ErrorCode.NOT_FOUND, "Repository not found (or not visible with this token)."
            )
        except outbound.OutboundError as exc:
            upstream = upstream_message(exc.body)
            if exc.status == 403 and upstream and "rate limit" in upstream.lower():
                return IntegrationResult.failure(
                    ErrorCode.RATE_LIMITED, f"GitHub: {upstream}", retry_after=exc.retry_after
                )
            return self.failure_upstream(exc, upstream, secret=secret)
        data = answer.data
        try:
            result = {
                "repository": str(data["full_name"]),
                "stars": int(data["stargazers_count"]),
                "open_issues": int(data["open_issues_count"]),
                "last_push": data["pushed_at"],
                "url": data.get("html_url"),
                "default_branch": data.get("default_branch"),
                "private": bool(data.get("private", False)),
            }
        except (KeyError, TypeError, ValueError, AttributeError):
            return self.unexpected_format()
        return IntegrationResult.success(result, source=answer.source, stale=answer.stale)
