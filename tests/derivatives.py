"""One photo's derivatives made and recorded at once, for tests.

The jobs make derivatives in batches (``photo_derivatives_make`` for each photo, then
``photos_derivatives_record`` for the batch); a test usually wants one photo done, with the
outcome raised or returned as a job item's would be.
"""

from __future__ import annotations

from photos import storage
from photos.derivatives import photo_derivatives_make, photos_current, photos_derivatives_record
from photos.models import Photo


def photo_derivatives_generate(
    *,
    photo: Photo,
    force: bool = False,
    job_id: int | None = None,
    index: storage.FolderIndex | None = None,
    only: str | None = None,
) -> str:
    """Make the photo's thumbnail and preview, read its EXIF, record statuses; a status message.

    One photo's ``photo_derivatives_make`` and ``photos_derivatives_record``; raises its
    ``ItemSkipped`` / ``ItemFailed``. ``photo`` gets the fields the batch recorded.
    """
    current = photos_current([photo.pk]).get(photo.pk)
    made = photo_derivatives_make(photo=photo, current=current, force=force, index=index, only=only)
    changed = made.changed
    outcome = photos_derivatives_record([made], job_id=job_id)[photo.pk]
    if current is not None:
        for name in changed:
            setattr(photo, name, getattr(current, name))
    if isinstance(outcome, Exception):
        raise outcome
    return outcome
