"""The gallery's image URLs: signed, expiring, naming one link, one photo and one kind.

The signed value is ``django.core.signing`` of ``{l: link id, p: photo id, k: kind, e: expiry}``
with its own salt: it cannot be made or changed without the server's secret key. A valid
signature is not enough to get a file: the image view checks on every request that the link is
still live, the photo still in it and public, and the kind still allowed (``views.image``).

The expiry is rounded up to the hour, so a gallery reloaded within the hour gets the same URLs
and the browser's cache keeps working.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

IMAGE_SALT = "sharing.gallery.image"
KINDS = ("thumbnail", "preview", "original")
ROUND_SECONDS = 3600


@dataclass(frozen=True)
class ImageClaim:
    link_id: int
    photo_id: int
    kind: str
    expires: int


def image_expiry(now: float | None = None) -> int:
    now = time.time() if now is None else now
    return math.ceil((now + settings.SHARE_IMAGE_URL_SECONDS) / ROUND_SECONDS) * ROUND_SECONDS


def image_sign(*, link_id: int, photo_id: int, kind: str, expires: int) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown image kind {kind!r}")
    return signing.dumps({"l": link_id, "p": photo_id, "k": kind, "e": expires}, salt=IMAGE_SALT)


def image_claim(value: str, *, now: float | None = None) -> ImageClaim | None:
    """The claim of a signed value; ``None`` when tampered with, malformed or expired."""
    try:
        data = signing.loads(value, salt=IMAGE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    try:
        claim = ImageClaim(
            link_id=int(data["l"]),
            photo_id=int(data["p"]),
            kind=str(data["k"]),
            expires=int(data["e"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
    now = time.time() if now is None else now
    if claim.kind not in KINDS or claim.expires <= now:
        return None
    return claim
