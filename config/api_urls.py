"""Everything under ``/api/`` (SPEC §9): every path answers with and without a trailing slash."""

from django.urls import include, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="api-schema"),
    re_path(r"^docs/?$", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^", include("projects.api.urls")),
    re_path(r"^", include("photos.api.urls")),
    re_path(r"^", include("jobs.api.urls")),
]
