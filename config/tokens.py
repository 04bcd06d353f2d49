"""API tokens of the management API: issued, listed and revoked here, by the API and the admin.

A user has one token per name (`DEFAULT_TOKEN_NAME` when none is given): issuing a token under a
name the user already has revokes that token, so logging in again replaces the login's token
instead of adding one. Only a token's HMAC digest is stored; the raw token is returned once.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet

from config.credentials import credential_digest, credential_generate
from config.models import DEFAULT_TOKEN_NAME, ApiToken

__all__ = ["DEFAULT_TOKEN_NAME", "api_token_issue", "api_token_list", "api_token_revoke"]


@transaction.atomic
def api_token_issue(*, user, name: str = DEFAULT_TOKEN_NAME) -> str:
    """Issue a token for a user under `name`, replacing the token they had under that name.

    Returns the raw token, which is never stored. Two issues for one user at the same moment are
    serialised on the user's row, so the last one wins and neither fails.
    """
    name = name.strip() or DEFAULT_TOKEN_NAME
    get_user_model().objects.select_for_update().only("pk").get(pk=user.pk)
    ApiToken.objects.filter(user=user, name=name).delete()
    raw = credential_generate()
    ApiToken.objects.create(user=user, name=name, digest=credential_digest(raw), prefix=raw[:8])
    return raw


def api_token_list(*, user) -> QuerySet[ApiToken]:
    """The user's own tokens, by name."""
    return ApiToken.objects.filter(user=user).order_by("name")


def api_token_revoke(*, token: ApiToken) -> None:
    """Revoke a token: it stops authenticating at once (tokens are looked up per request)."""
    ApiToken.objects.filter(pk=token.pk).delete()
