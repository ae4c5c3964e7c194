"""Everything under ``/api/`` (SPEC §9): every path answers with and without a trailing slash."""

from csp.decorators import csp_update
from django.urls import include, re_path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse


@extend_schema(exclude=True)
@api_view(["GET"])
@permission_classes([AllowAny])
def api_root(request: Request) -> Response:
    """Where to start: the main collections and the docs."""
    return Response(
        {
            name: request.build_absolute_uri(f"/api/{path}")
            for name, path in (
                ("projects", "projects/"),
                ("photos", "photos/"),
                ("jobs", "jobs/"),
                ("task_definitions", "tasks/definitions"),
                ("events", "events/stream"),
            )
        }
        | {
            "schema": reverse("api-schema", request=request),
            "docs": reverse("api-docs", request=request),
        }
    )


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI without inline script: the page loads its start-up script from
    ``?script`` (the Content-Security-Policy allows scripts from this origin only)."""

    template_name = "api/swagger_ui.html"


# Swagger UI's stylesheet draws its icons as data: images.
api_docs = csp_update({"img-src": ["data:"]})(ApiDocsView.as_view(url_name="api-schema"))

urlpatterns = [
    re_path(r"^$", api_root, name="api-root"),
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="api-schema"),
    re_path(r"^docs/?$", api_docs, name="api-docs"),
    re_path(r"^", include("projects.api.urls")),
    re_path(r"^", include("photos.api.urls")),
    re_path(r"^", include("jobs.api.urls")),
    re_path(r"^", include("sharing.api.urls")),
]
