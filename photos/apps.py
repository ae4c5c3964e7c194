from django.apps import AppConfig


class PhotosConfig(AppConfig):
    name = "photos"
    verbose_name = "Photos"

    def ready(self) -> None:
        # Maintenance and discovery ticks start through their services.
        from photos import schedules  # noqa: F401
