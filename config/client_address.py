"""The address a request came from, for the login throttle (django-axes).

Behind reverse proxies ``REMOTE_ADDR`` is the nearest proxy, so every login would share one
address. With ``DJANGO_PROXY_COUNT = n`` the client is the n-th entry from the right of
``X-Forwarded-For``: each trusted proxy appends the address it received the request from, and
entries further left were written by the client and cannot be trusted.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.DJANGO_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        # Not through the expected proxies (a direct request): the peer itself.
        return remote
    return forwarded[-proxies]
