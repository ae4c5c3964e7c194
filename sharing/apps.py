from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "sharing"
    verbose_name = "Sharing and delivery"

    def ready(self) -> None:
        from . import definitions

        # The engine names no export: the app hands it its tasks, schedule and event types.
        definitions.register()
        # The photo list filters by the client's picks (``?picked_by_share=<id>``): photos
        # cannot import sharing, so sharing hands the filter over.
        from photos.api.filters import photo_filter_register

        from .filters import picked_by_share_filter

        photo_filter_register("picked_by_share", picked_by_share_filter())
