"""The culling workspace (SPEC §17): one admin page that hosts the client, and the ``/`` redirect.

The page is a shell: the client (``photos/static/photos/cull/``, plain ES modules) reads and
writes everything through the REST API with the session and the CSRF token, so the workspace
adds no write path of its own. The page only hands the client its bootstrap data: the user's
tenant's active projects (through ``for_user``, the one place of tenant scoping), the labels,
the item limit of the bulk endpoints, the API paths, and what the user's role may do
(``capabilities``, SPEC §14): the client hides the controls of the actions the role may not take
and answers their keys with a message; the API refuses them anyway (403).

Who may open the page: a signed-in staff member (the admin's own login) whose role may read
(``Action.READ``: every role, viewers included). A viewer looks through the photos; the
Django model permissions, which govern the admin's own pages, play no part here, since the page
only calls the API, which asks the role.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from core.limits import MAX_ITEMS_PER_JOB
from jobs.models import Event
from photos.models import Label
from projects.models import Project, role_of
from projects.permissions import capabilities, may
from projects.roles import Action

# Cursor pages of the photo list: the API's maximum page size.
PAGE_SIZE = 1000
# Lightroom's label keys. Purple has no number key there either; the client's L / Shift+L
# cycle through every label and the Label menu lists them all.
LABEL_KEYS = {"6": Label.RED, "7": Label.YELLOW, "8": Label.GREEN, "9": Label.BLUE}


def workspace_projects(user: Any) -> list[dict[str, Any]]:
    """The active projects the user may cull, by name: what the client offers as filters."""
    rows = Project.objects.visible_to(user).order_by("name", "id").values("id", "name", "folder")
    return [dict(row) for row in rows]


# An id no object has, replaced by ``{id}`` in the paths the client fills in.
_ID = 987654321

# The API routes the client calls, by the name it knows them (api.js), and whether the route
# takes an object's id.
API_ROUTES = {
    "photos": ("photo-list", False),
    "photo": ("photo-detail", True),
    "thumbnail": ("photo-thumbnail", True),
    "preview": ("photo-preview", True),
    "full": ("photo-full", True),
    "screen": ("photo-screen", True),
    "bursts-keep-sharpest": ("photo-bursts-keep-sharpest", False),
    "keep": ("photo-keep", False),
    "rating": ("photo-rating", False),
    "tags/add": ("photo-tags-add", False),
    "tags/remove": ("photo-tags-remove", False),
    "move": ("photo-move", False),
    "process": ("photo-process", False),
    "restore": ("photo-restore", False),
    "commit-changes": ("photo-commit-changes", False),
    "revert-changes": ("photo-revert-changes", False),
    "pending-deletes": ("photo-pending-deletes", False),
    "visibility": ("photo-visibility", False),
    "shares": ("share-list", False),
    "share-picks": ("share-picks", True),
    "share-apply-picks": ("share-apply-picks", True),
    "projects": ("project-list", False),
    "project": ("project-detail", True),
    "project-upload": ("project-upload", True),
    "uploads": ("upload-list", False),
    "project-trash": ("project-trash", True),
    "jobs": ("job-list", False),
    "job-items": ("job-items", True),
    "tasks": ("task-list", False),
    "task-definitions": ("task-definitions", False),
    "events": ("event-stream", False),
    "exports": ("export-list", False),
}


def _path(name: str, *, one: bool = False) -> str:
    if not one:
        return reverse(name)
    return reverse(name, args=[_ID]).replace(str(_ID), "{id}")


def workspace_api_paths() -> dict[str, str]:
    """``{name: path}`` of every API route the client calls, ``{id}`` where an id goes."""
    return {key: _path(name, one=one) for key, (name, one) in API_ROUTES.items()}


def workspace_bootstrap(user: Any) -> dict[str, Any]:
    """Everything the client needs before its first API call."""
    return {
        "user_id": user.pk,
        "role": role_of(user),
        # {action: allowed} for every action of the roles table (projects.roles.Action).
        "capabilities": capabilities(user),
        "projects": workspace_projects(user),
        # The event stream starts here, so nothing written while the page loads is missed.
        "last_event_id": Event.objects.for_user(user).aggregate(m=Max("id"))["m"] or 0,
        "labels": [value for value in Label.values if value != Label.NONE],
        "label_keys": {key: str(label) for key, label in LABEL_KEYS.items()},
        "max_items": MAX_ITEMS_PER_JOB,
        "page_size": PAGE_SIZE,
        "poll_ms": int(getattr(settings, "CULL_TRAY_POLL_MS", 5000)),
        "api": workspace_api_paths(),
        "admin": {
            "photo_change": _path("admin:photos_photo_change", one=True),
        },
    }


def cull_view(request: HttpRequest) -> HttpResponse:
    """``/admin/cull/``: the workspace shell, for staff whose role may read."""
    if not may(request.user, Action.READ):
        raise PermissionDenied
    bootstrap = workspace_bootstrap(request.user)
    keys = {label: key for key, label in bootstrap["label_keys"].items()}
    context = {
        **admin.site.each_context(request),
        "title": "Culling workspace",
        "bootstrap": bootstrap,
        # The Label menu: every label with its number key, if it has one.
        "label_menu": [
            {"value": value, "name": Label(value).label, "key": keys.get(value, "")}
            for value in bootstrap["labels"]
        ],
    }
    return render(request, "admin/photos/cull.html", context)


def root_redirect(request: HttpRequest) -> HttpResponseRedirect:
    """``/``: signed-in staff go to the workspace, everyone else to the admin's login."""
    workspace = reverse("cull")
    if request.user.is_authenticated and request.user.is_staff:
        return HttpResponseRedirect(workspace)
    login = reverse("admin:login")
    return HttpResponseRedirect(f"{login}?{urlencode({'next': workspace})}")
