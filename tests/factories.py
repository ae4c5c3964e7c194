"""Factories for tests: tenants, users, projects with real folders, photos with real JPEGs."""

from __future__ import annotations

import io
import itertools
from datetime import datetime
from pathlib import Path

from django.contrib.auth import get_user_model
from PIL import Image

from photos.models import Photo
from projects.models import Membership, Project, Tenant

_seq = itertools.count(1)


def make_tenant(slug: str | None = None, name: str | None = None) -> Tenant:
    slug = slug or f"tenant{next(_seq)}"
    return Tenant.objects.create(slug=slug, name=name or slug.title())


def make_user(
    tenant: Tenant | None,
    username: str | None = None,
    *,
    staff: bool = False,
    superuser: bool = False,
    role: str = "owner",
    password: str = "pw-for-tests-1",
):  # type: ignore[no-untyped-def]
    User = get_user_model()
    user = User.objects.create_user(
        username=username or f"user{next(_seq)}",
        password=password,
        is_staff=staff or superuser,
        is_superuser=superuser,
    )
    if tenant is not None:
        Membership.objects.create(user=user, tenant=tenant, role=role)
    return user


def make_project(
    tenant: Tenant, name: str | None = None, *, folder: str | None = None, create_dir: bool = True
) -> Project:
    from django.conf import settings

    name = name or f"Project {next(_seq)}"
    project = Project.objects.create(tenant=tenant, name=name, folder=folder or name)
    if create_dir:
        (Path(settings.PHOTOS_ROOT) / tenant.slug / project.folder).mkdir(
            parents=True, exist_ok=True
        )
    return project


def jpeg_bytes(
    *,
    size: tuple[int, int] = (64, 48),
    color: tuple[int, int, int] = (200, 30, 30),
    orientation: int | None = None,
    taken_at: datetime | None = None,
    make: str | None = None,
    model: str | None = None,
    quality: int = 85,
) -> bytes:
    """A real JPEG, optionally with EXIF orientation, DateTimeOriginal, make and model."""
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    if make:
        exif[0x010F] = make
    if model:
        exif[0x0110] = model
    if taken_at is not None:
        exif_ifd = exif.get_ifd(0x8769)
        exif_ifd[0x9003] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, exif=exif.tobytes())
    return buffer.getvalue()


def image_bytes(fmt: str, *, size: tuple[int, int] = (32, 24), **options) -> bytes:  # type: ignore[no-untyped-def]
    """A real image file in Pillow format ``fmt`` ("PNG", "TIFF", "WEBP")."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, fmt, **options)
    return buffer.getvalue()


def raw_bytes(*, make: str = "Canon", model: str = "EOS R5") -> bytes:
    """A tiny TIFF-based RAW container (as CR2, NEF, ARW and DNG files are), made with Pillow:
    a TIFF with the DNG version tag and the camera's make and model."""
    info = Image.Exif()
    info[0x010F] = make
    info[0x0110] = model
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), (90, 90, 90)).save(
        buffer, "TIFF", exif=info, tiffinfo={50706: b"\x01\x04\x00\x00"}
    )
    return buffer.getvalue()


def write_file(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def make_photo(
    project: Project,
    basename: str | None = None,
    *,
    jpg: bool = True,
    raw: bool = False,
    write: bool = True,
    **fields,
) -> Photo:  # type: ignore[no-untyped-def]
    """A photo row; with ``write`` its JPG (real JPEG) and RAW (stand-in bytes) on disk too."""
    from django.conf import settings

    basename = basename or f"IMG_{next(_seq):05d}"
    photo = Photo.objects.create(
        project=project,
        basename=basename,
        ext="jpg" if jpg else ("cr2" if raw else ""),
        jpg_available=jpg,
        raw_available=raw,
        keep_jpg=fields.pop("keep_jpg", jpg),
        keep_raw=fields.pop("keep_raw", raw),
        **fields,
    )
    if write:
        folder = Path(settings.PHOTOS_ROOT) / project.tenant.slug / project.folder
        if jpg:
            write_file(folder / f"{basename}.jpg", jpeg_bytes())
        if raw:
            write_file(folder / f"{basename}.cr2", b"RAW-STAND-IN " + basename.encode())
    return photo


def make_item(project: Project, label: str | None = None) -> Photo:
    """A row of what job items name (the registered item source's model), no file on disk:
    the engine's tests see items only by id, label and project."""
    return Photo.objects.create(project=project, basename=label or f"ITEM_{next(_seq):05d}")


def make_items(project: Project, count: int, prefix: str = "P") -> list[int]:
    """``count`` items of ``project`` in one query; their ids in creation order."""
    Photo.objects.bulk_create(
        [Photo(project=project, basename=f"{prefix}{i:05d}") for i in range(count)]
    )
    return list(
        Photo.objects.filter(project=project, basename__startswith=prefix)
        .order_by("id")
        .values_list("pk", flat=True)
    )
