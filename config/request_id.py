"""The ``X-Request-ID`` a client sends, echoed into the events its request causes.

A thin adapter: the id goes into ``jobs.events``' context variable for the length of the
request, so the services that write events stay free of HTTP (docs/WORKSPACE.md, "Live").
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from jobs.events import request_id_scope

HEADER = "X-Request-ID"


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with request_id_scope(request.headers.get(HEADER)):
            return self.get_response(request)
