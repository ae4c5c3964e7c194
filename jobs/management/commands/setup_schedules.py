"""``setup_schedules``: create or update the django-q2 schedules by name (idempotent)."""

from typing import Any

from django.core.management.base import BaseCommand

from jobs.scheduling import schedules_setup


class Command(BaseCommand):
    help = "Create or update the pipeline's schedules (also done after every migrate)."

    def handle(self, *args: Any, **options: Any) -> None:
        for name in schedules_setup():
            self.stdout.write(name)
