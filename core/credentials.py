"""How a request's API token is read: one helper for every authenticator.

DRF's token authentication (``core.api.authentication``), the event stream
(``jobs/api/stream.py``) and the ASGI gates that run before Django (``config/body_limit.py``,
``config/upload_gate.py``) read an ``Authorization: Token <key>`` header here, so a token is
accepted or refused alike everywhere.
"""

from __future__ import annotations

from typing import Any

TOKEN_KEYWORD = "token"
# ``rest_framework.authtoken.models.Token.key`` holds 40 characters; a longer key names no token.
TOKEN_KEY_MAX_LENGTH = 40


def header_token_key(header: str) -> str | None:
    """The key of an ``Authorization`` header value ``Token <key>`` (keyword in any case),
    else ``None`` (no header, another scheme, a missing or spaced key)."""
    parts = header.split()
    if len(parts) != 2 or parts[0].lower() != TOKEN_KEYWORD:
        return None
    return parts[1]


def token_for_key(key: str) -> Any:
    """The API token whose key is ``key``, with its user, else ``None`` (the user may be
    inactive: the caller decides how to refuse)."""
    # Imported here: the ASGI gates import this module before Django's app registry is ready.
    from rest_framework.authtoken.models import Token

    if not key or len(key) > TOKEN_KEY_MAX_LENGTH:
        return None
    return Token.objects.select_related("user").filter(key=key).first()


def token_user(key: str) -> Any:
    """The active user whose API token is ``key``, else ``None``."""
    token = token_for_key(key)
    if token is None or not token.user.is_active:
        return None
    return token.user
