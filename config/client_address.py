"""The address of the client behind our proxies, for the login throttle (django-axes) and the
registration throttle alike.

`TRUSTED_PROXY_COUNT` says how many proxies in front of the hub append to `X-Forwarded-For`
(docker-compose: 1, its nginx). With 0 (the default) the client is `REMOTE_ADDR` and the header
is ignored: anyone can send one. With N, the client is the N-th address from the right of
`X-Forwarded-For` — the one the outermost trusted proxy saw; addresses further left were sent by
the client and may be forged. A header with fewer entries than N (the request did not pass all
the proxies) or an entry that is not an IP address leaves `REMOTE_ADDR`.

Our own ten lines rather than django-ipware: ipware scans several headers by precedence and
counts proxies differently depending on its ordering setting, which is easy to configure into a
spoofable address; this is the rule of werkzeug's ProxyFix(x_for=N), and it runs on the
registration path without ipware's header scan.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _ip_or_none(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address (None only if the server gave no valid REMOTE_ADDR)."""
    meta = request.META
    remote = _ip_or_none(meta.get("REMOTE_ADDR", ""))
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [entry for entry in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
    if len(forwarded) < count:
        return remote
    return _ip_or_none(forwarded[-count]) or remote
