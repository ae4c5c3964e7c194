"""``discover_folders [--tenant SLUG] [--dry-run] [--enqueue]`` (SPEC §12).

Starts ``folder_discovery`` for each tenant (every tenant without ``--tenant``) and runs it here
unless ``--enqueue``. The maintenance tasks it starts for discovered projects are queued for the
workers. ``--dry-run`` prints the projects that would be created, adopted or re-activated.
"""

from __future__ import annotations

from functools import partial

from django.core.management.base import BaseCommand, CommandError

from photos.project_maintenance import folders_discover
from photos.services.projects import discovery_start
from projects.reporting import Report

from .maintenance import print_plan, resolve_targets, start_and_run


class Command(BaseCommand):
    help = "Create projects for new folders under each tenant's root (folder_discovery)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tenant", metavar="SLUG", help="Only this tenant.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would change; change nothing."
        )
        parser.add_argument("--enqueue", action="store_true", help="Queue for the workers.")

    def handle(self, *args, **options) -> None:
        if options["dry_run"] and options["enqueue"]:
            raise CommandError("--dry-run and --enqueue cannot be combined.")
        failed = []
        for tenant, _ in resolve_targets(tenant_slug=options["tenant"], project_id=None):
            if options["dry_run"]:
                report = Report(dry_run=True, sink=lambda c: self.stdout.write(f"  {c}"))
                folders_discover(tenant=tenant, dry_run=True, report=report)
                print_plan(self, report, tenant.slug)
                continue
            error = start_and_run(
                self,
                start=partial(discovery_start, tenant=tenant, source="maintenance"),
                task_type="folder_discovery",
                tenant=tenant,
                project=None,
                enqueue=options["enqueue"],
            )
            if error is not None:
                failed.append(error)
        if failed:
            raise CommandError(f"Folder discovery did not complete: {'; '.join(failed)}")
