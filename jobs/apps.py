from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Job pipeline"

    def ready(self) -> None:
        from jobs import process_tree, registry, signals  # noqa: F401

        # A process that serve started dies with its parent, and so does all it forks.
        process_tree.tree_dies_with_parent()
        registry.autodiscover()
