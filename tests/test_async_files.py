"""Under ASGI, file responses (WhiteNoise's static files, the favicon, photo files) stream by an
async iterator: Django's ASGI handler then serves them without its "StreamingHttpResponse must
consume synchronous iterators" warning on every one (issue 22, item 1)."""

from __future__ import annotations

import warnings

import pytest
from asgiref.sync import async_to_sync
from django.contrib.staticfiles import finders
from django.test import AsyncClient


async def served(response) -> bytes:  # type: ignore[no-untyped-def]
    """The body read as Django's ASGI handler reads it (``async for`` over the response)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return b"".join([part async for part in response])


@pytest.mark.parametrize(
    ("url", "name"),
    [("/static/admin/css/base.css", "admin/css/base.css"), ("/favicon.ico", "favicon.ico")],
)
def test_file_responses_stream_asynchronously_under_asgi(transactional_db, url, name):
    async def fetch():  # type: ignore[no-untyped-def]
        response = await AsyncClient().get(url)
        return response, await served(response)

    response, body = async_to_sync(fetch)()
    assert response.status_code == 200
    assert response.is_async
    with open(finders.find(name), "rb") as file:
        assert body == file.read()


def test_under_wsgi_file_responses_keep_their_file_for_the_server(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert not response.is_async
    assert response["Content-Type"] == "image/x-icon"
