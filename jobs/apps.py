from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Job pipeline"

    def ready(self) -> None:
        from jobs import registry, signals  # noqa: F401

        registry.autodiscover()
