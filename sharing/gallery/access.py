"""Opening a link: its token, its password, and the throttles in front of both.

A token is looked up by its SHA-256 (the only form stored) and the stored hash compared with
``hmac.compare_digest``. Every way a link can fail to open (unknown, expired, revoked, a wrong
password once the attempts are used up) ends in the same ``LinkNotFound``, which the views turn
into one fixed 404: a client learns nothing from the answer.

A password-protected link, once its password is given, is opened by a signed cookie scoped to
the link's path. The cookie carries a fingerprint of the stored password hash, so changing the
password closes every open session of the link.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core import signing
from django.http import HttpRequest
from django.utils import timezone
from django.utils.module_loading import import_string

from core.api.throttling import RateLimited, throttle_check
from sharing.models import ShareLink, token_hash

ACCESS_COOKIE = "share_access"
ACCESS_SALT = "sharing.gallery.access"
# A token is 43 URL-safe characters; anything much longer is not one (and not worth hashing).
TOKEN_MAX_LENGTH = 128
ACCESS_COOKIE_MAX_AGE = timedelta(days=7)


class LinkNotFound(Exception):
    """The link cannot be opened: unknown, expired, revoked or locked by wrong passwords."""


def link_open(token: str) -> ShareLink:
    """The live link of ``token``; ``LinkNotFound`` otherwise."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        raise LinkNotFound
    digest = token_hash(token)
    link = ShareLink.objects.live().filter(token_hash=digest).select_related("tenant").first()
    # The lookup found the row by its hash; compare in constant time all the same, so the
    # answer never depends on how much of a guessed hash matched.
    if link is None or not hmac.compare_digest(link.token_hash, digest):
        raise LinkNotFound
    return link


def password_fingerprint(link: ShareLink) -> str:
    return hashlib.sha256(f"{link.pk}:{link.password}".encode()).hexdigest()[:24]


def access_cookie_value(link: ShareLink) -> str:
    return signing.dumps({"l": link.pk, "f": password_fingerprint(link)}, salt=ACCESS_SALT)


def access_cookie_max_age(link: ShareLink) -> int:
    left = (link.expires_at - timezone.now()).total_seconds()
    return max(0, int(min(left, ACCESS_COOKIE_MAX_AGE.total_seconds())))


def access_granted(link: ShareLink, cookie: str | None) -> bool:
    """Whether ``cookie`` (the link's access cookie) opens ``link``; always for no password."""
    if not link.password:
        return True
    if not cookie:
        return False
    try:
        value = signing.loads(cookie, salt=ACCESS_SALT, max_age=ACCESS_COOKIE_MAX_AGE)
    except signing.BadSignature:
        return False
    if not isinstance(value, dict) or value.get("l") != link.pk:
        return False
    return hmac.compare_digest(str(value.get("f", "")), password_fingerprint(link))


def password_try(link: ShareLink, password: str, *, address: str) -> bool:
    """Check one password attempt on ``link`` from ``address``; ``LinkNotFound`` once the
    attempts of this address on this link are used up (``gallery_password`` rate), whether
    the password is right or not, so guessing cannot go on."""
    try:
        throttle_check(scope="gallery_password", ident=f"addr-{address}-link-{link.pk}")
    except RateLimited:
        raise LinkNotFound from None
    return bool(link.password) and check_password(password, link.password)


def request_address(request: HttpRequest) -> str:
    """The client's address, by the same rule as the login throttle (``AXES_CLIENT_IP_CALLABLE``:
    the n-th entry of ``X-Forwarded-For`` behind ``DJANGO_PROXY_COUNT`` proxies)."""
    return import_string(settings.AXES_CLIENT_IP_CALLABLE)(request) or "unknown"


def address_throttle(address: str) -> None:
    """Count one gallery request from ``address``; ``RateLimited`` past the ``gallery`` rate."""
    throttle_check(scope="gallery", ident=f"addr-{address}")
