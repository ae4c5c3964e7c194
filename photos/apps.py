from django.apps import AppConfig


class PhotosConfig(AppConfig):
    name = "photos"
    verbose_name = "Photos"

    def ready(self) -> None:
        from photos import definitions

        # The engine names no photo task: the app hands it its catalogue and item source.
        definitions.register()
        # Maintenance and discovery ticks start through their services.
        from photos import schedules  # noqa: F401
