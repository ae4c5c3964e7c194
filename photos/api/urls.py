from django.urls import re_path

from core.api.routers import OptionalSlashRouter

from .maintenance import MaintenanceDiscoverView, MaintenanceRunView
from .projects import ProjectViewSet
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
]
