"""One reading of API tokens (``core.credentials``) for DRF, the event stream and the gates."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token

from config.body_limit import credentials_user
from core.credentials import header_token_key, token_user
from tests import factories
from tests.urls import api_path


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Token abc", "abc"),
        ("token abc", "abc"),
        ("Bearer abc", None),
        ("Token", None),
        ("Token a b", None),
        ("", None),
    ],
)
def test_header_token_key_reads_only_a_two_part_token_header(header, key):
    assert header_token_key(header) == key


@pytest.mark.django_db
def test_token_user_is_the_active_owner_of_exactly_that_key(tenant):
    user = factories.make_user(tenant, "alice")
    token = Token.objects.create(user=user)
    assert token_user(token.key) == user
    assert token_user(token.key + "x") is None
    assert token_user(token.key[:-1]) is None
    user.is_active = False
    user.save()
    assert token_user(token.key) is None


@pytest.mark.django_db
def test_drf_the_gates_and_the_stream_refuse_the_same_overlong_key(client, tenant):
    user = factories.make_user(tenant, "alice")
    token = Token.objects.create(user=user)
    overlong = f"Token {token.key}x"
    assert credentials_user({b"authorization": overlong.encode()}) is None
    assert client.get(api_path("project-list"), HTTP_AUTHORIZATION=overlong).status_code == 401
    assert client.get(api_path("event-stream"), HTTP_AUTHORIZATION=overlong).status_code == 401
    good = f"Token {token.key}"
    assert credentials_user({b"authorization": good.encode()}) == user
    assert client.get(api_path("project-list"), HTTP_AUTHORIZATION=good).status_code == 200


@pytest.mark.django_db
def test_drf_tells_an_inactive_users_token_apart(client, tenant):
    user = factories.make_user(tenant, "alice")
    token = Token.objects.create(user=user)
    user.is_active = False
    user.save()
    reply = client.get(api_path("project-list"), HTTP_AUTHORIZATION=f"Token {token.key}")
    assert reply.status_code == 401
    assert reply.json()["detail"] == "User inactive or deleted."
