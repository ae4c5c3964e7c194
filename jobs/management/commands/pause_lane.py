"""``pause_lane LANE``: no new claims in the lane until it is resumed."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jobs.lanes import lane_set_paused
from jobs.models import Lane


class Command(BaseCommand):
    help = "Pause a lane (running jobs finish; nothing new starts)."
    paused = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("lane", help=f"One of: {', '.join(Lane.values)}")

    def handle(self, *args: Any, **options: Any) -> None:
        lane = options["lane"]
        if lane not in Lane.values:
            raise CommandError(f"Unknown lane {lane!r}; use one of {', '.join(Lane.values)}.")
        lane_set_paused(lane=lane, paused=self.paused)
        self.stdout.write(f"lane {lane} {'paused' if self.paused else 'resumed'}")
