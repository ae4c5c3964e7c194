from django.urls import re_path

from core.api.routers import OptionalSlashRouter

from .maintenance import MaintenanceDiscoverView, MaintenanceRunView
from .projects import ProjectViewSet
from .uploads import UploadCreateView, UploadDetailView
from .views import PhotoViewSet

router = OptionalSlashRouter()
router.register("projects", ProjectViewSet, basename="project")
router.register("photos", PhotoViewSet, basename="photo")

urlpatterns = [
    re_path(r"^maintenance/run/?$", MaintenanceRunView.as_view(), name="maintenance-run"),
    re_path(
        r"^maintenance/discover/?$", MaintenanceDiscoverView.as_view(), name="maintenance-discover"
    ),
    *router.urls,
    re_path(r"^uploads/?$", UploadCreateView.as_view(), name="upload-list"),
    re_path(r"^uploads/(?P<pk>[0-9a-f]{32})/?$", UploadDetailView.as_view(), name="upload-detail"),
]
