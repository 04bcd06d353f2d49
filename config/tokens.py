from config.credentials import credential_digest, credential_generate
from config.models import ApiToken


def api_token_issue(*, user, name: str = "") -> str:
    """Issue a new API token for a user; the raw token is returned once and never stored."""
    raw = credential_generate()
    ApiToken.objects.create(user=user, name=name, digest=credential_digest(raw), prefix=raw[:8])
    return raw
