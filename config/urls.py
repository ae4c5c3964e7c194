from django.contrib import admin
from django.urls import include, path

from photos.workspace import cull_view, root_redirect

urlpatterns = [
    path("", root_redirect, name="root"),
    # Before the admin's own URLs: the admin's catch-all would answer /admin/cull/ with a 404.
    path("admin/cull/", admin.site.admin_view(cull_view), name="cull"),
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
]
