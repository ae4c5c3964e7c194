from django.urls import re_path

from core.api.routers import OptionalSlashRouter

from .stream import event_stream
from .views import JobViewSet, TaskViewSet

router = OptionalSlashRouter()
router.register("jobs", JobViewSet, basename="job")
router.register("tasks", TaskViewSet, basename="task")

urlpatterns = [
    re_path(r"^events/stream/?$", event_stream, name="event-stream"),
    *router.urls,
]
