from core.api.routers import OptionalSlashRouter

from .views import PhotoViewSet

router = OptionalSlashRouter()
router.register("photos", PhotoViewSet, basename="photo")

urlpatterns = router.urls
