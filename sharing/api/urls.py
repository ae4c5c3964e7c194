from core.api.routers import OptionalSlashRouter

from .exports import ExportViewSet

router = OptionalSlashRouter()
router.register("exports", ExportViewSet, basename="export")

urlpatterns = router.urls
