"""``sweep``: requeue stale jobs and re-send lost wake-ups once, now."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from jobs.sweeper import sweep


class Command(BaseCommand):
    help = "Requeue jobs of dead workers and re-send wake-ups for jobs waiting too long."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stale-seconds", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        result = sweep(stale_seconds=options["stale_seconds"])
        self.stdout.write(
            f"requeued {len(result['requeued'])} stale job(s)"
            + (f" ({', '.join(map(str, result['requeued']))})" if result["requeued"] else "")
            + f"; woke {sum(result['woken'].values())} waiting job(s)"
        )
