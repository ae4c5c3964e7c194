"""Share links, the client's picks and exports (SPEC §18).

A link's token is shown once, in the reply that creates it; only its SHA-256 is stored
(``token_hash``), so a leaked database gives no working link. Visibility is the master switch:
a link shows only its photos that are ``public``.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from photos.models import Photo
from projects.models import Tenant, TenantScopedQuerySet

# 32 random bytes, URL-safe (43 characters).
TOKEN_BYTES = 32
DEFAULT_LINK_DAYS = 30


def token_new() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def default_expiry():
    return timezone.now() + timedelta(days=DEFAULT_LINK_DAYS)


class ShareLinkQuerySet(TenantScopedQuerySet["ShareLink"]):
    def live(self, now=None) -> ShareLinkQuerySet:
        """Links a client may open: not revoked, not expired."""
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)


class ShareLink(models.Model):
    class Downloads(models.TextChoices):
        NONE = "none", "No downloads"
        PREVIEW = "preview", "Previews"
        ORIGINAL = "original", "Originals"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="share_links")
    title = models.CharField(max_length=200)
    message = models.TextField(blank=True, default="")
    photos = models.ManyToManyField(Photo, related_name="share_links", blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The token's first characters, to tell links apart in lists (never enough to open one).
    token_hint = models.CharField(max_length=8, editable=False, default="")
    expires_at = models.DateTimeField(default=default_expiry)
    # Django's password hasher; empty: no password.
    password = models.CharField(max_length=128, blank=True, default="")
    downloads = models.CharField(max_length=16, choices=Downloads.choices, default=Downloads.NONE)
    watermark = models.CharField(max_length=120, blank=True, default="")
    allow_picks = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    view_count = models.PositiveIntegerField(default=0)
    download_count = models.PositiveIntegerField(default=0)

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"])]

    def __str__(self) -> str:
        return self.title

    def token_set(self) -> str:
        """Give the link a new token; returns it (the only time it is seen)."""
        token = token_new()
        self.token_hash = token_hash(token)
        self.token_hint = token[:6]
        return token

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class SharePickQuerySet(TenantScopedQuerySet["SharePick"]):
    tenant_lookup = "link__tenant"


class SharePick(models.Model):
    """A client's heart and comment on one photo of a link; one row per photo and client name."""

    link = models.ForeignKey(ShareLink, on_delete=models.CASCADE, related_name="picks")
    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="share_picks")
    picked = models.BooleanField(default=True)
    comment = models.TextField(blank=True, default="")
    client_name = models.CharField(max_length=120, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SharePickQuerySet.as_manager()

    class Meta:
        ordering = ["link", "photo", "client_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["link", "photo", "client_name"], name="sharepick_one_per_client"
            )
        ]

    def __str__(self) -> str:
        return f"{self.client_name or 'client'}: {self.photo_id}"


class ExportQuerySet(TenantScopedQuerySet["Export"]):
    pass


class Export(models.Model):
    """A ZIP of photos made by the ``export`` task (SPEC §18): originals as they are, or JPEGs
    at a long edge and quality. The file lives under ``EXPORTS_ROOT`` (``sharing.exports``)
    until ``expires_at``; maintenance then deletes it and the row says ``expired``."""

    class Kind(models.TextChoices):
        ORIGINALS = "originals", "Originals"
        JPEG = "jpeg", "JPEG"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="exports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    share = models.ForeignKey(
        ShareLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="exports"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.ORIGINALS)
    long_edge = models.PositiveIntegerField(null=True, blank=True)
    quality = models.PositiveSmallIntegerField(null=True, blank=True)
    watermark = models.CharField(max_length=120, blank=True, default="")
    name_template = models.CharField(max_length=200, default="{basename}")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    task = models.ForeignKey(
        "jobs.TaskRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The name the download gets (the file on disk is named by id: ``sharing.exports``).
    file_name = models.CharField(max_length=200, blank=True, default="")
    size = models.BigIntegerField(null=True, blank=True)
    photo_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    objects = ExportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="export_tenant_created"),
            models.Index(fields=["status", "expires_at"], name="export_status_expiry"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quality__isnull=True)
                | models.Q(quality__gte=1, quality__lte=100),
                name="export_quality_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Export {self.pk} ({self.kind}, {self.status})"
