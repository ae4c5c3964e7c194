from core.api.routers import OptionalSlashRouter

from .exports import ExportViewSet
from .views import ShareViewSet

router = OptionalSlashRouter()
router.register("shares", ShareViewSet, basename="share")
router.register("exports", ExportViewSet, basename="export")

urlpatterns = router.urls
