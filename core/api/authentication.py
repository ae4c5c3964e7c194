"""DRF's token authentication, reading tokens through ``core.credentials`` as every other
authenticator of the product does (the event stream, the ASGI gates)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from core.credentials import token_for_key


class TokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>``; DRF parses the header and words the refusals."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        token = token_for_key(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)
