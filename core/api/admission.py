"""What the upload gate (``config/upload_gate.py``, an ASGI middleware) tells the views about a
request it admitted from its headers: the mark in the ASGI scope, read by ``admitted_upload``,
and the upload throttle that counts such a request once (the gate already counted it).

Here, below the apps, so the upload views (``photos/api/``) read the gate's verdict without
importing the project package that holds the gate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .throttling import BulkThrottle

# The ASGI scope key of an upload the gate admitted (its value: an ``Admission``).
ADMITTED_UPLOAD_KEY = "photolib.upload"


@dataclass(frozen=True)
class Admission:
    """An upload the gate let through: who, into which project's folder."""

    user_id: int
    project_id: int
    folder: str
    # A chunk of a resumable upload: its body streams to the view, which appends it to the
    # upload's partial file (no multipart parsing, no staging).
    resumable: bool = False


def admitted_upload(request: Any) -> Admission | None:
    """The gate's admission of this request (an ASGI request it let through), else None."""
    scope = getattr(request, "scope", None)
    admission = scope.get(ADMITTED_UPLOAD_KEY) if isinstance(scope, dict) else None
    return admission if isinstance(admission, Admission) else None


class UploadThrottle(BulkThrottle):
    """The upload's bulk throttle, counted once: by the gate for a request it admitted (then
    the view lets it through), by the view for any other (a WSGI server, the test client)."""

    def allow_request(self, request: Any, view: Any) -> bool:
        admission = admitted_upload(request)
        user = getattr(request, "user", None)
        if admission is not None and user is not None and admission.user_id == user.pk:
            return True
        return super().allow_request(request, view)
