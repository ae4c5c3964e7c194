from django.urls import re_path

from core.api.routers import OptionalSlashRouter

from .uploads import UploadCreateView, UploadDetailView
from .views import PhotoViewSet

router = OptionalSlashRouter()
router.register("photos", PhotoViewSet, basename="photo")

urlpatterns = [
    *router.urls,
    re_path(r"^uploads/?$", UploadCreateView.as_view(), name="upload-list"),
    re_path(r"^uploads/(?P<pk>[0-9a-f]{32})/?$", UploadDetailView.as_view(), name="upload-detail"),
]
