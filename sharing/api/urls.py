from core.api.routers import OptionalSlashRouter

from .views import ShareViewSet

router = OptionalSlashRouter()
router.register("shares", ShareViewSet, basename="share")

urlpatterns = router.urls
