from django.contrib import admin
from django.contrib.staticfiles import finders
from django.http import FileResponse, HttpRequest
from django.urls import include, path
from django.views.decorators.http import require_safe

from photos.workspace import cull_view, root_redirect


@require_safe
def favicon(request: HttpRequest) -> FileResponse:
    """``/favicon.ico``: browsers ask for it on every page without a ``<link rel=icon>`` (the
    API docs, a JSON reply); the admin's pages link the same file under ``/static/``."""
    found = finders.find("favicon.ico")
    assert isinstance(found, str)
    response = FileResponse(open(found, "rb"), content_type="image/x-icon")  # noqa: SIM115
    response["Cache-Control"] = "public, max-age=86400"
    return response


urlpatterns = [
    path("", root_redirect, name="root"),
    path("favicon.ico", favicon, name="favicon"),
    # Before the admin's own URLs: the admin's catch-all would answer /admin/cull/ with a 404.
    path("admin/cull/", admin.site.admin_view(cull_view), name="cull"),
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
    # The client's gallery of a share link: no login (sharing/gallery/).
    path("s/", include("sharing.gallery.urls")),
]
