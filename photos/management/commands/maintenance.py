"""``maintenance [--tenant SLUG] [--project ID] [--dry-run] [--enqueue]`` (SPEC §12).

Starts ``maintenance_global`` for each tenant (every tenant without ``--tenant``), or the
``maintenance`` task of one project with ``--project``, and runs it to completion here through
the same handlers as the workers, unless ``--enqueue``. ``--dry-run`` prints what each step
would change and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from jobs.exceptions import TaskAlreadyRunning
from jobs.management.commands._progress import run_task_foreground, task_error
from jobs.tasks import StartedTask
from photos.reconcile.plan import maintenance_plan
from photos.services.projects import maintenance_start
from projects.models import Project, Tenant
from projects.reporting import Report


def resolve_targets(
    *, tenant_slug: str | None, project_id: int | None
) -> list[tuple[Tenant, Project | None]]:
    """``(tenant, project)`` pairs a tenant-wide command acts on."""
    if project_id is not None:
        project = Project.objects.select_related("tenant").filter(pk=project_id).first()
        if project is None:
            raise CommandError(f"Project {project_id} does not exist.")
        if tenant_slug and project.tenant.slug != tenant_slug:
            raise CommandError(f"Project {project_id} does not belong to tenant {tenant_slug!r}.")
        return [(project.tenant, project)]
    if tenant_slug:
        tenant = Tenant.objects.filter(slug=tenant_slug).first()
        if tenant is None:
            raise CommandError(f"Tenant {tenant_slug!r} does not exist.")
        return [(tenant, None)]
    return [(tenant, None) for tenant in Tenant.objects.order_by("slug")]


def print_plan(command: BaseCommand, report: Report, label: str) -> None:
    if report.total:
        command.stdout.write(
            f"{label}: {report.total} change(s) would be made; nothing was changed."
        )
    else:
        command.stdout.write(f"{label}: nothing to change.")


def start_and_run(
    command: BaseCommand,
    *,
    start: Callable[[], StartedTask],
    task_type: str,
    tenant: Tenant,
    project: Project | None,
    enqueue: bool,
) -> str | None:
    """Start one task with ``start`` (``maintenance_start``/``discovery_start``: single flight)
    and, unless ``enqueue``, run it here until it is final.

    A task of the type already queued or running is joined instead: its jobs run here when
    claimable and are waited for when a worker has them. Returns ``None`` when the task
    completed (or was only queued), else its error.
    """
    label = tenant.slug if project is None else f"{tenant.slug}/{project.folder}"
    try:
        started = start()
        task_id = started["task_id"]
        command.stdout.write(f"{label}: {task_type} task {task_id} queued")
    except TaskAlreadyRunning as exc:
        task_id = exc.task_id
        command.stdout.write(f"{label}: {task_type} task {task_id} is already queued or running")
    except ApplicationError as exc:
        raise CommandError(str(exc)) from exc
    if enqueue:
        return None
    task = run_task_foreground(task_id, out=command.stdout)
    command.stdout.write(f"{label}: {task_type} task {task.pk} {task.status}")
    return None if task.status == "completed" else f"{label}: {task_error(task)}"


class Command(BaseCommand):
    help = (
        "Run maintenance now: maintenance_global per tenant, or maintenance of one project "
        "(--project). Runs in the foreground unless --enqueue; --dry-run only prints the plan."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tenant", metavar="SLUG", help="Only this tenant.")
        parser.add_argument("--project", type=int, metavar="ID", help="Only this project.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would change; change nothing."
        )
        parser.add_argument("--enqueue", action="store_true", help="Queue for the workers.")
        parser.add_argument(
            "--full",
            action="store_true",
            help="Check every project, also those unchanged since their last check.",
        )

    def handle(self, *args, **options) -> None:
        if options["dry_run"] and options["enqueue"]:
            raise CommandError("--dry-run and --enqueue cannot be combined.")
        targets = resolve_targets(tenant_slug=options["tenant"], project_id=options["project"])
        failed = []
        for tenant, project in targets:
            if options["dry_run"]:
                report = Report(dry_run=True, sink=lambda c: self.stdout.write(f"  {c}"))
                maintenance_plan(tenant=tenant, project=project, report=report)
                print_plan(
                    self, report, tenant.slug if project is None else f"project {project.pk}"
                )
                continue
            task_type = "maintenance" if project is not None else "maintenance_global"
            error = start_and_run(
                self,
                start=partial(
                    maintenance_start,
                    tenant=tenant,
                    project=project,
                    source="maintenance",
                    full=options["full"],
                ),
                task_type=task_type,
                tenant=tenant,
                project=project,
                enqueue=options["enqueue"],
            )
            if error is not None:
                failed.append(error)
        if failed:
            raise CommandError(f"Maintenance did not complete: {'; '.join(failed)}")
