"""DRF's browsable API under the Content-Security-Policy (docs/SECURITY.md#content-security-policy)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from csp.constants import UNSAFE_INLINE
from rest_framework import renderers


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """The browsable API, allowed inline styles on its own pages.

    DRF's vendored templates carry a ``<style>`` (the code highlighter's) and ``style``
    attributes that cannot be moved without copying its templates. Only its HTML pages get
    ``style-src 'unsafe-inline'``; their scripts stay ``'self'`` only, and every other page
    keeps the strict policy.
    """

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> Any:
        response = (renderer_context or {}).get("response")
        if response is not None:
            response._csp_update = {"style-src": [UNSAFE_INLINE]}
        return super().render(data, accepted_media_type, renderer_context)
