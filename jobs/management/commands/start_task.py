"""``start_task TYPE [--tenant SLUG] [--project ID] [--items ID,ID…] [--enqueue]`` (SPEC §12)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import ApplicationError
from jobs.registry import item_source
from jobs.tasks import task_start
from projects.models import Project, Tenant

from ._progress import run_task_foreground, task_error


class Command(BaseCommand):
    help = "Start a task; runs it in the foreground unless --enqueue."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("type")
        parser.add_argument("--tenant")
        parser.add_argument("--project", type=int)
        parser.add_argument(
            "--items", help=f"{item_source().noun[0].capitalize()} ids, comma-separated."
        )
        parser.add_argument("--enqueue", action="store_true", help="Queue for the workers.")

    def handle(self, *args: Any, **options: Any) -> None:
        project = None
        if options["project"] is not None:
            project = Project.objects.select_related("tenant").filter(pk=options["project"]).first()
            if project is None:
                raise CommandError(f"Project {options['project']} does not exist.")
        items = _parse_ids(options["items"])
        if options["tenant"]:
            tenants = list(Tenant.objects.filter(slug=options["tenant"]))
            if not tenants:
                raise CommandError(f"Tenant {options['tenant']!r} does not exist.")
        elif project is not None:
            tenants = [project.tenant]
        else:
            tenants = list(Tenant.objects.all())
        if project is not None and any(t.pk != project.tenant_id for t in tenants):
            raise CommandError("The project belongs to another tenant.")
        if items and len(tenants) != 1:
            raise CommandError("--items needs one tenant (--tenant or --project).")
        for tenant in tenants:
            try:
                started = task_start(
                    tenant=tenant,
                    task_type=options["type"],
                    project=project,
                    items=items,
                    source="command",
                )
            except ApplicationError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                f"{tenant.slug}: task {started['task_id']} ({started['job_count']} job(s))"
            )
            if not options["enqueue"]:
                task = run_task_foreground(started["task_id"], out=self.stdout)
                self.stdout.write(f"{tenant.slug}: task {task.pk} {task.status}")
                if task.status != "completed":
                    raise CommandError(f"Task {task.pk} ended {task.status}: {task_error(task)}")


def _parse_ids(raw: str | None) -> list[int]:
    if not raw:
        return []
    try:
        return [int(part) for part in raw.split(",") if part.strip()]
    except ValueError as exc:
        raise CommandError(
            f"--items takes {item_source().noun[0]} ids separated by commas, got {raw!r}."
        ) from exc
