"""The API's router: every route answers with and without a trailing slash (SPEC §9)."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    def __init__(self) -> None:
        super().__init__(trailing_slash=True)
        # A regex that makes the slash optional, so neither form is redirected or refused.
        self.trailing_slash = "/?"
