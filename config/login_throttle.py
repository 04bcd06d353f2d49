"""Failed logins are throttled per account and per client: django-axes, configured in settings.

Where: every `django.contrib.auth.authenticate` call with a request — `POST /api/v1/auth/token/`
and the admin login. Axes' backend (first in AUTHENTICATION_BACKENDS) refuses an attempt that
is locked out before any password is hashed; its signal handler records each failure in the
database (`axes.AccessAttempt`), where every web process sees it.

Semantics:
- `LOGIN_FAILURE_LIMIT` (10) failures for one username, from any address, lock that username
  out; as many from one client address (config/client_address.py), for any usernames, lock that
  address out. The failure that reaches the limit and every attempt after it, right password or
  not, are answered 429 with `Retry-After`: JSON `{"detail": ...}` on the API, an HTML page on
  the admin login.
- A lockout lasts `LOGIN_LOCKOUT_SECONDS` (900) from the last counted failure. Attempts during a
  lockout are not counted, so it ends on time: a guesser gets at most the limit of guesses per
  window per account and per address. The price: someone guessing one account's password
  keeps that account locked for its owner too; an admin lifts a lockout at once with
  `manage.py axes_reset_username <name>` / `axes_reset_ip <address>` / `axes_reset`, or by
  deleting it in the admin (Axes → Access attempts).
- A successful login does not reset the counters: a guesser holding one valid account could
  otherwise clear its address's counter, and with it the counters of the accounts it guesses.

Logged: one warning per lockout, `login locked out`, with `user_id` (None when no account has the
username), `client` (the address), `path`, `failures` and `retry_after`. Never the password,
and not the username as typed (a password typed into the username field would land in the log);
axes' own lines mask username and address. The typed username is kept in `AccessAttempt` rows,
which only the admin shows.
"""

import logging
import math

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.signals import user_locked_out
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

logger = logging.getLogger(__name__)

LOCKED_OUT = "Too many failed login attempts. Try again in {seconds} seconds."


def retry_after_seconds(request: HttpRequest, credentials: dict | None = None) -> int:
    """Seconds until the lockout of this request's username or address lifts.

    Axes counts, per username and per address, the failures of the attempts (one row per
    username, address and user agent) whose last failure lies within the cool-off; the lockout
    lifts when enough of those rows age out that fewer than the limit remain.
    """
    cool_off = get_cool_off(request)
    limit = get_failure_limit(request, credentials)
    now = timezone.now()
    lifts_at = None
    for attempts in AxesProxyHandler.get_implementation().get_user_attempts(request, credentials):
        counted = 0
        for attempt_time, failures in attempts.order_by("-attempt_time").values_list(
            "attempt_time", "failures_since_start"
        ):
            counted += failures
            if counted >= limit:
                candidate = attempt_time + cool_off
                lifts_at = candidate if lifts_at is None else max(lifts_at, candidate)
                break
    if lifts_at is None:  # cleared meanwhile: the whole window is a safe answer
        return max(1, int(cool_off.total_seconds()))
    return max(1, math.ceil((lifts_at - now).total_seconds()))


def _is_admin_request(request: HttpRequest) -> bool:
    return request.path.startswith(reverse("admin:index"))


def lockout_response(request: HttpRequest, original_response=None, credentials: dict | None = None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the 429 for a locked-out login, HTML on the admin, JSON elsewhere."""
    seconds = retry_after_seconds(request, credentials)
    if _is_admin_request(request):
        response = TemplateResponse(
            request,
            "admin/login_locked_out.html",
            {
                **admin.site.each_context(request),
                "title": "Too many failed login attempts",
                "retry_after": seconds,
                "retry_after_minutes": math.ceil(seconds / 60),
            },
            status=429,
        )
        response.render()
    else:
        response = JsonResponse({"detail": LOCKED_OUT.format(seconds=seconds)}, status=429)
    response["Retry-After"] = str(seconds)
    response["Cache-Control"] = "no-store"
    return response


@receiver(user_locked_out, dispatch_uid="switchboard-login-locked-out-log")
def _log_lockout(sender, request, username=None, ip_address=None, **kwargs):
    # Sent for the failure that reached the limit (axes has just counted it) and again for each
    # attempt refused during the lockout (not counted): log the lockout once.
    if request is None or getattr(request, "axes_failures_since_start", None) is None:
        return
    credentials = getattr(request, "axes_credentials", None)
    typed = get_client_username(request, credentials)
    user_model = get_user_model()
    users = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: typed}) if typed else None
    user_id = users.values_list("pk", flat=True).first() if users is not None else None
    logger.warning(
        "login locked out",
        extra={
            "user_id": user_id,
            "client": ip_address,
            "path": request.path,
            "failures": request.axes_failures_since_start,
            "retry_after": retry_after_seconds(request, credentials),
        },
    )
