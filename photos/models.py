"""Photos and tags (SPEC §3). A photo is one base name inside a project."""

from __future__ import annotations

import secrets
from typing import Any, Self

from django.conf import settings
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from projects.models import Project, TenantScopedQuerySet


class DerivativeStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    GENERATED = "generated", "Generated"
    FAILED = "failed", "Failed"
    MISSING = "missing", "Missing"
    NOT_SUPPORTED = "not_supported", "Not supported"


def pending_delete_q(prefix: str = "", *, jpg: bool = True, raw: bool = True) -> Q:
    """Photos a commit would trash files of: a file present whose keep flag is off (SPEC §3).

    The one definition of "pending delete"; ``prefix`` reaches it through a relation
    (``"photos__"`` from a project), ``jpg``/``raw`` limit it to one file class.
    """
    parts = [
        Q(**{f"{prefix}{kind}_available": True, f"{prefix}keep_{kind}": False})
        for kind, wanted in (("jpg", jpg), ("raw", raw))
        if wanted
    ]
    if not parts:
        raise ValueError("pending_delete_q needs jpg, raw or both.")
    condition = parts[0]
    for part in parts[1:]:
        condition |= part
    return condition


PENDING_JPG_Q = pending_delete_q(raw=False)
PENDING_RAW_Q = pending_delete_q(jpg=False)
PENDING_DELETE_Q = pending_delete_q()
KEEP_MISMATCH_Q = ~Q(keep_jpg=F("jpg_available")) | ~Q(keep_raw=F("raw_available"))


def needs_derivatives_q() -> Q:
    """Photos whose thumbnail or preview is not ``generated`` and that have an original to
    make them from: a JPG, another image, or a RAW alone (its embedded preview or a demosaic).
    """
    return ~Q(
        thumbnail_status=DerivativeStatus.GENERATED, preview_status=DerivativeStatus.GENERATED
    ) & (Q(jpg_available=True) | Q(other_available=True) | Q(raw_available=True))


class Label(models.TextChoices):
    """Colour labels as culling tools (Photo Mechanic, Lightroom) name them."""

    NONE = "none", "None"
    RED = "red", "Red"
    YELLOW = "yellow", "Yellow"
    GREEN = "green", "Green"
    BLUE = "blue", "Blue"
    PURPLE = "purple", "Purple"


RATING_MAX = 5


class PhotoQuerySet(TenantScopedQuerySet["Photo"]):
    tenant_lookup = "project__tenant"

    def visible_to(self, user: Any) -> Self:
        """The photos ``user`` works on: their tenant's (``for_user``), in active projects.

        A photo of an archived (deleted) project is on its way out: every list, lookup and
        bulk write treats it as not found. The one place this rule is written.
        """
        return self.for_user(user).in_active_project()

    def in_active_project(self) -> Self:
        return self.filter(project__status=Project.Status.ACTIVE)

    def pending_delete(self) -> Self:
        return self.filter(PENDING_DELETE_Q)

    def keep_mismatch(self) -> Self:
        return self.filter(KEEP_MISMATCH_Q)

    def live(self) -> Self:
        """Photos not in the trash (what ``Photo.objects`` already is)."""
        return self.filter(trashed_at__isnull=True)

    def trashed(self) -> Self:
        """Photos whose last original went to ``.trash/`` (read through ``Photo.all_objects``)."""
        return self.filter(trashed_at__isnull=False)

    def restorable(self) -> Self:
        """Trashed photos, and live photos with a file in ``.trash/`` (a partial commit)."""
        files = TrashedFile.objects.filter(photo=OuterRef("pk"))
        return self.filter(Q(trashed_at__isnull=False) | Exists(files))


class _LiveManager(models.Manager["Photo"]):
    """``Photo.objects``: photos not in the trash (SPEC §3 ``trashed_at``).

    The default manager, so every list, count, lookup and related manager
    (``project.photos``) hides trashed rows without each caller remembering to. The few
    places that need them (the trash list, restore, the purge, deleting a project's rows)
    read ``Photo.all_objects``, which is also the base manager (foreign-key access such as
    ``item.photo``, cascades, the job engine's item checks).
    """

    def get_queryset(self) -> PhotoQuerySet:
        return PhotoQuerySet(self.model, using=self._db).filter(trashed_at__isnull=True)


LivePhotoManager = _LiveManager.from_queryset(PhotoQuerySet)


class Photo(models.Model):
    class Visibility(models.TextChoices):
        PRIVATE = "private", "Private"
        PUBLIC = "public", "Public"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="photos")
    basename = models.CharField(max_length=255)
    ext = models.CharField(max_length=16, blank=True, default="")
    jpg_available = models.BooleanField(default=False)
    raw_available = models.BooleanField(default=False)
    other_available = models.BooleanField(default=False)
    keep_jpg = models.BooleanField(default=False)
    keep_raw = models.BooleanField(default=False)
    thumbnail_status = models.CharField(
        max_length=16, choices=DerivativeStatus.choices, null=True, blank=True
    )
    preview_status = models.CharField(
        max_length=16, choices=DerivativeStatus.choices, null=True, blank=True
    )
    # The camera's wall clock as recorded, stored as if it were UTC (never converted), and
    # the recorded offset in minutes east of UTC when the file has one (docs/SCHEMA.md).
    taken_at = models.DateTimeField(null=True, blank=True)
    taken_at_offset = models.SmallIntegerField(
        null=True, blank=True, help_text="minutes east of UTC (EXIF OffsetTimeOriginal)"
    )
    orientation = models.PositiveSmallIntegerField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    # Capture metadata read from the derivative source (or the RAW): filterable and sortable.
    camera = models.CharField(max_length=255, blank=True, default="")
    lens = models.CharField(max_length=255, blank=True, default="")
    focal_length = models.FloatField(null=True, blank=True, help_text="millimetres")
    aperture = models.FloatField(null=True, blank=True, help_text="f-number")
    shutter = models.FloatField(null=True, blank=True, help_text="exposure time in seconds")
    iso = models.PositiveIntegerField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # Culling hints computed on the thumbnail (``photos.hints``), and the burst (SPEC §17):
    # the id of the burst's first photo (``photos.bursts``), null when the photo is alone.
    sharpness = models.FloatField(null=True, blank=True)
    highlights_clipped = models.FloatField(null=True, blank=True, help_text="fraction of pixels")
    shadows_clipped = models.FloatField(null=True, blank=True, help_text="fraction of pixels")
    burst = models.BigIntegerField(null=True, blank=True)
    rating = models.PositiveSmallIntegerField(default=0)
    label = models.CharField(max_length=8, choices=Label.choices, default=Label.NONE)
    visibility = models.CharField(
        max_length=16, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    tags: models.ManyToManyField[Tag, Any] = models.ManyToManyField(
        "Tag", related_name="photos", blank=True
    )
    # Set when the photo's last original went to ``.trash/`` (a commit); the row then stays,
    # hidden, until the purge deletes its files (SPEC §3), so a restore keeps id and tags.
    trashed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LivePhotoManager()
    all_objects = PhotoQuerySet.as_manager()

    class Meta:
        ordering = ["project_id", "basename"]
        # Foreign keys (``item.photo``), cascades and the job engine's item checks see every
        # row, trashed ones too, through a manager that still scopes by tenant.
        base_manager_name = "all_objects"
        constraints = [
            # Among live rows only: a new photo may take the name of a trashed one (restoring
            # that one is then refused as "name taken").
            models.UniqueConstraint(
                fields=["project", "basename"],
                condition=Q(trashed_at__isnull=True),
                name="photo_basename_unique_per_project",
            ),
            models.CheckConstraint(
                condition=Q(rating__gte=0, rating__lte=RATING_MAX), name="photo_rating_0_to_5"
            ),
            models.CheckConstraint(condition=Q(label__in=Label.values), name="photo_label_known"),
        ]
        indexes = [
            models.Index(fields=["project", "id"], name="photo_project_id"),
            # The default list order (``photos.selectors.PHOTO_ORDERING_DEFAULT``): capture
            # time with missing dates last, then base name, then id. PostgreSQL's ascending
            # b-tree already puts NULLs last; SQLite refuses NULLS LAST in an index.
            models.Index(
                fields=["project", "taken_at", "basename", "id"], name="photo_project_taken_order"
            ),
            models.Index(fields=["taken_at", "basename", "id"], name="photo_taken_order"),
            models.Index(fields=["project", "rating"], name="photo_project_rating"),
            models.Index(fields=["project", "sharpness"], name="photo_project_sharpness"),
            # A burst's frames (its size and sharpest frame in lists, keep-the-sharpest).
            models.Index(
                fields=["burst", "sharpness"],
                condition=Q(burst__isnull=False),
                name="photo_burst_sharpness",
            ),
            # The trash list of a project and the purge's due rows.
            models.Index(
                fields=["project", "trashed_at"],
                condition=Q(trashed_at__isnull=False),
                name="photo_project_trashed",
            ),
            # ``?pending=true`` in the default order: the few photos a commit would trash, read
            # in list order without walking the dated rows that are not pending.
            models.Index(
                fields=["taken_at", "basename", "id"],
                condition=PENDING_DELETE_Q,
                name="photo_pending_taken_order",
            ),
            models.Index(
                fields=["project", "taken_at", "basename", "id"],
                condition=PENDING_DELETE_Q,
                name="photo_pending_project_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.basename} in project {self.project_id}"

    @property
    def pending_delete(self) -> bool:
        """``PENDING_DELETE_Q`` for a row in memory."""
        return (self.jpg_available and not self.keep_jpg) or (
            self.raw_available and not self.keep_raw
        )

    @property
    def keep_mismatch(self) -> bool:
        return self.keep_jpg != self.jpg_available or self.keep_raw != self.raw_available


class TrashedFileQuerySet(TenantScopedQuerySet["TrashedFile"]):
    tenant_lookup = "photo__project__tenant"


class TrashedFile(models.Model):
    """One original or sidecar of a photo that a commit moved into ``.trash/``.

    ``name`` is the file's name in the project folder, ``trash_name`` its name in ``.trash/``
    (``fsrules.trash_move`` may pick ``<base>~<n>.<ext>``). A restore moves ``trash_name``
    back to ``name`` and deletes the record; the purge deletes the record once the file is
    gone from the trash, then the photo row if it is trashed and has no file left there.
    """

    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="trashed_files")
    name = models.CharField(max_length=255)
    trash_name = models.CharField(max_length=255)
    trashed_at = models.DateTimeField(default=timezone.now)

    objects = TrashedFileQuerySet.as_manager()

    class Meta:
        ordering = ["photo_id", "name", "id"]
        indexes = [models.Index(fields=["photo", "trashed_at"], name="trashedfile_photo")]

    def __str__(self) -> str:
        return f"{self.name} (in .trash/ as {self.trash_name}) of photo {self.photo_id}"


class PhotoInTrash(Photo):
    """The admin's "Trash": trashed photos and photos with files in ``.trash/``."""

    class Meta:
        proxy = True
        verbose_name = "photo in the trash"
        verbose_name_plural = "trash"


class TagQuerySet(TenantScopedQuerySet["Tag"]):
    tenant_lookup = "project__tenant"


class Tag(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=100)

    objects = TagQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="tag_name_unique_per_project"),
        ]
        # ``?tags=`` across projects looks a name up in every project of the tenant.
        indexes = [models.Index(fields=["name", "project"], name="tag_name_project")]

    def __str__(self) -> str:
        return self.name


class ProjectPhotoCounts(models.Model):
    """How many photos a project has and how many a commit would trash (SPEC §9's counts).

    Kept by database triggers on ``photos_photo`` (migration ``0003``), never by Python: every
    write path (the ORM, ``QuerySet.update``, bulk inserts, raw SQL, a cascade) moves the
    counts in the same transaction, so a project list reads them instead of counting photos.
    A project without a row has no photos yet.
    """

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, primary_key=True, related_name="photo_counts"
    )
    photo_count = models.BigIntegerField(default=0)
    pending_delete_count = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"project {self.project_id}: {self.photo_count} photo(s)"


def _upload_id() -> str:
    return secrets.token_hex(16)


class ResumableUploadQuerySet(TenantScopedQuerySet["ResumableUpload"]):
    def for_user(self, user: Any) -> Self:
        """A user's own uploads (of their tenant): another user's upload id is unknown."""
        return super().for_user(user).filter(user_id=getattr(user, "pk", None) or 0)

    def expired(self, *, now: Any) -> Self:
        return self.filter(expires_at__lte=now)


class ResumableUpload(models.Model):
    """A resumable (tus 1.0) upload of one file into a project (``photos/tus.py``).

    The bytes received so far are in ``tmp_name``, a hidden temporary file of the project folder
    (``fsrules.temp_create``'s rule); ``offset`` is how many. Once ``offset`` reaches ``length``
    the file enters through ``photos_upload`` and ``result`` holds its reply; the partial file
    is gone either way. ``expires_at`` moves forward with every write; past it, maintenance
    deletes the row and its partial file (``PIPELINE_UPLOAD_TTL_HOURS``).
    """

    id = models.CharField(primary_key=True, max_length=32, default=_upload_id, editable=False)
    tenant = models.ForeignKey("projects.Tenant", on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="resumable_uploads"
    )
    filename = models.CharField(max_length=255)
    rename = models.CharField(max_length=100, blank=True, default="")
    length = models.BigIntegerField()
    offset = models.BigIntegerField(default=0)
    tmp_name = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)

    objects = ResumableUploadQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["expires_at"], name="resumableupload_expires")]
        constraints = [
            models.CheckConstraint(
                condition=Q(offset__gte=0) & Q(offset__lte=F("length")),
                name="resumableupload_offset_in_length",
            )
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.offset}/{self.length} bytes) into project {self.project_id}"
