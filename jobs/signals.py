"""Keep django-q2 schedules in place after every migrate (SPEC §8)."""

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from .scheduling import schedules_setup


# Django's Signal.send() passes ``sender`` by keyword: the receiver keeps its name.
@receiver(post_migrate)
def schedules_after_migrate(
    sender: Any,  # noqa: ARG001
    app_config: AppConfig | None = None,
    **kwargs: Any,
) -> None:
    if app_config is None or app_config.label != "jobs":
        return
    schedules_setup(using=kwargs.get("using", "default"))
