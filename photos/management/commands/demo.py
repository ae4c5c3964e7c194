"""``demo [--tenant SLUG] [--username NAME] [--password P] [--photos N] [--enqueue]
[--if-no-users] [-v 0]`` (SPEC §12).

A tenant, a staff user (password printed) and sample projects of generated JPEGs, ingested
through the same path as an upload, then culled and tagged through the photo services, so a
new user sees a living system: thumbnails in the admin, pending deletes, tasks and events.
Without ``--enqueue`` the upload tasks run here in the foreground; with it they are left to the
workers (``serve``), and the dashboard shows them queued and running.

The login is also left in ``var/demo-login.json`` (readable by its owner only) for ``serve`` to
print, once, in its start-up block: ``bin/run`` runs ``demo --if-no-users -v 0`` on a first
start, so the password is not lost among the pipeline's lines.
"""

from __future__ import annotations

import io
import json
import logging
import os
import random
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from PIL import Image, ImageDraw

from core.errors import ApplicationError
from jobs.management.commands.serve import demo_login_path
from jobs.models import Job, JobStatus, TaskRun
from photos.models import Photo
from photos.services.projects import project_create
from photos.services.upload import photos_upload
from photos.storage import project_dir
from projects.models import Project, Tenant
from projects.services import MembershipConflict, tenant_user_ensure

# Base names are unique across a tenant's projects (SPEC §6 duplicate_resolution): one prefix
# per project.
SAMPLE_PROJECTS = (
    ("Iceland July 2025", "ICE", ((40, 90, 140), (220, 230, 240)), "NIKON CORPORATION", "Z 7II"),
    ("Studio Portraits", "STU", ((120, 60, 50), (240, 200, 170)), "Canon", "Canon EOS R5"),
    ("Wedding Anna & Ben", "WED", ((60, 110, 60), (250, 245, 230)), "FUJIFILM", "X-T5"),
)
TAGS = ("favourite", "landscape", "portrait", "client-pick")


def demo_jpeg(
    *,
    index: int,
    colours: tuple[tuple[int, int, int], tuple[int, int, int]],
    make: str,
    model: str,
    taken_at: datetime,
    rng: random.Random,
) -> bytes:
    """A 1200×800 JPEG: a gradient with a few shapes and real EXIF (date, camera, orientation)."""
    width, height = 1200, 800
    top, bottom = colours
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / (height - 1)
        draw.line(
            [(0, y), (width, y)],
            fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    for _ in range(6):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(30, 160)
        fill = tuple(rng.randrange(256) for _ in range(3))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=fill, outline=(255, 255, 255))
    draw.rectangle([20, 20, 260, 90], fill=(0, 0, 0))
    draw.text((35, 40), f"DEMO #{index:03d}", fill=(255, 255, 255))
    exif = Image.Exif()
    exif[0x010F] = make
    exif[0x0110] = model
    exif[0x0112] = 1
    exif.get_ifd(0x8769)[0x9003] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=82, exif=exif.tobytes())
    return buffer.getvalue()


class Command(BaseCommand):
    help = "Create a demo tenant, a staff user and sample projects of generated photos."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tenant", default="demo", help="Tenant slug (default: demo).")
        parser.add_argument("--username", default="demo", help="Staff user (default: demo).")
        parser.add_argument("--password", help="Password (default: a random one, printed).")
        parser.add_argument(
            "--photos", type=int, default=8, help="Photos per sample project (default: 8)."
        )
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Leave the tasks to the workers instead of running them here.",
        )
        parser.add_argument(
            "--if-no-users",
            action="store_true",
            help="Do nothing when any user exists (bin/run's first start).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count = options["photos"]
        if not 1 <= count <= 500:
            raise CommandError("--photos must be between 1 and 500.")
        if options["if_no_users"] and get_user_model().objects.exists():
            return
        self.quiet = options["verbosity"] < 1
        password = options["password"] or secrets.token_urlsafe(12)
        tenant, user = self._staff_user(options["tenant"], options["username"], password)
        self._leave_login(user.get_username(), password)
        # Quiet: the pipeline's own lines (a few per job) stay out of the console too.
        pipeline_loggers = [logging.getLogger(name) for name in ("jobs", "photos", "projects")]
        levels = [logger.level for logger in pipeline_loggers]
        if self.quiet:
            for logger in pipeline_loggers:
                logger.setLevel(logging.WARNING)
        try:
            self._build(tenant=tenant, user=user, count=count, enqueue=options["enqueue"])
        finally:
            for logger, level in zip(pipeline_loggers, levels, strict=True):
                logger.setLevel(level)
        self._summary(tenant, user, password)

    def say(self, line: str) -> None:
        if not self.quiet:
            self.stdout.write(line)

    @staticmethod
    def _leave_login(username: str, password: str) -> None:
        """For ``serve``'s start-up block; only the owner may read it."""
        path = demo_login_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            json.dump({"username": username, "password": password}, file)

    def _build(self, *, tenant: Tenant, user: Any, count: int, enqueue: bool) -> None:

        rng = random.Random(f"{tenant.slug}-demo")
        task_ids: list[str] = []
        for name, prefix, colours, make, model in SAMPLE_PROJECTS:
            project = Project.objects.filter(tenant=tenant, name=name).first()
            if project is not None and Photo.objects.filter(project=project).exists():
                self.say(f"Project '{name}' already has photos; left as it is.")
                continue
            project = project or project_create(tenant=tenant, name=name, actor_id=user.pk)
            files = [
                (
                    f"{prefix}_{i:04d}.jpg",
                    demo_jpeg(
                        index=i,
                        colours=colours,
                        make=make,
                        model=model,
                        taken_at=datetime(2025, 7, 1, 9, 0) + timedelta(minutes=17 * i),  # noqa: DTZ001  (EXIF times are naive)
                        rng=rng,
                    ),
                )
                for i in range(1, count + 1)
            ]
            task_id = self._ingest(project=project, files=files, user=user)
            if task_id:
                task_ids.append(task_id)
            self._cull(project=project, user=user, rng=rng)
            ingested = Photo.objects.filter(project=project).count()
            self.say(f"Project '{project.name}': {ingested} photo(s) in {project_dir(project)}")

        if enqueue:
            self.say(f"{len(task_ids)} task(s) queued for the workers (run `serve`).")
        else:
            self._run_foreground(task_ids)

    # --- steps ---

    def _staff_user(self, slug: str, username: str, password: str) -> tuple[Tenant, Any]:
        """The demo tenant and its staff user, through the ``tenant_user`` service."""
        try:
            ensured = tenant_user_ensure(
                slug=slug,
                username=username,
                password=password,
                staff=True,
                tenant_name=f"{slug.title()} Studio",
            )
        except MembershipConflict as exc:
            raise CommandError(
                f"User {username} belongs to tenant {exc.tenant_slug}; pick another --username."
            ) from exc
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        tenant = ensured.tenant
        self.say(f"{'Created' if ensured.tenant_created else 'Using'} tenant '{tenant.slug}'.")
        return tenant, ensured.user

    def _ingest(self, *, project: Project, files: list[tuple[str, bytes]], user: Any) -> str | None:
        """Write the files through the upload use case; returns the upload_postprocess task id."""
        uploads = [SimpleUploadedFile(name, data, "image/jpeg") for name, data in files]
        outcome = photos_upload(
            project=project, files=uploads, actor_id=user.pk, all_or_nothing=False
        )
        for error in outcome.errors:
            self.stderr.write(f"  not ingested: {error}")
        return outcome.task_id

    def _cull(self, *, project: Project, user: Any, rng: random.Random) -> None:
        """Discard a few JPGs and tag a few photos, through the API's services (events too)."""
        from photos.services import photos_keep_update, photos_tags_add

        ids = list(
            Photo.objects.filter(project=project).order_by("id").values_list("pk", flat=True)
        )
        if not ids:
            return
        discard = rng.sample(ids, k=max(1, len(ids) // 4))
        photos_keep_update(user=user, items=[{"photo_id": pk, "keep_jpg": False} for pk in discard])
        tagged = rng.sample(ids, k=max(1, len(ids) // 2))
        photos_tags_add(
            user=user,
            items=[{"photo_id": pk, "tags": rng.sample(TAGS, k=2)} for pk in tagged],
        )

    def _run_foreground(self, task_ids: list[str]) -> None:
        from jobs.management.commands._progress import run_task_foreground, task_error

        for task_id in task_ids:
            task = TaskRun.objects.get(pk=task_id)
            self.say(f"Running {task.type} for {task.project.name if task.project else '-'}:")
            task = run_task_foreground(task_id, out=io.StringIO() if self.quiet else self.stdout)
            self.say(f"  → {task.status}")
            if task.status != JobStatus.COMPLETED:
                raise CommandError(f"Task {task.pk} ended {task.status}: {task_error(task)}")

    def _summary(self, tenant: Tenant, user: Any, password: str) -> None:
        if self.quiet:
            return  # serve prints the login in its start-up block.
        photos = Photo.objects.for_tenant(tenant)
        jobs = Job.objects.for_tenant(tenant)
        self.stdout.write("")
        self.stdout.write(
            f"Tenant '{tenant.slug}': {Project.objects.for_tenant(tenant).count()} project(s), "
            f"{photos.count()} photo(s), {photos.pending_delete().count()} pending delete, "
            f"{jobs.count()} job(s)."
        )
        # The port is serve's to choose (`bin/run --port N`): serve prints the full URL.
        self.stdout.write("Admin:     /admin/ on the URL `serve` (or `bin/run`) prints")
        self.stdout.write("Dashboard: /admin/jobs/job/dashboard/")
        self.stdout.write(f"Username:  {user.get_username()}")
        self.stdout.write(f"Password:  {password}")
