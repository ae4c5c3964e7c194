"""The product's paths for tests, by URL name.

Tests ask for a path by its name (``api_path("photo-keep")``, ``api_path("project-detail",
pk=project.pk)``) instead of spelling it; the paths themselves are a contract (SPEC §9, §18),
asserted once in ``tests/test_api_paths.py``. ``reverse`` gives the form without a trailing
slash: every API path answers with and without one.
"""

from __future__ import annotations

from django.urls import reverse


def api_path(name: str, **kwargs: object) -> str:
    """The path of the URL named ``name`` with ``kwargs`` (``pk``, ``task_id``, ``token``)."""
    return reverse(name, kwargs=kwargs or None)
