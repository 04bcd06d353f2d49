"""Pages for people that are not the admin: the landing page at `/`."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe


@require_safe
def landing(request: HttpRequest) -> HttpResponse:
    """What the hub is and where to go from here; the admin's "View site" leads here."""
    return render(request, "landing.html")
