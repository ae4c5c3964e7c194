"""Fixtures of the gallery tests: links made with the model (the token set and kept), real
photos with real JPEG originals and real WebP derivatives on disk, made public directly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from PIL import Image

from photos.models import Photo
from photos.storage import preview_path, thumbnail_path
from sharing.models import ShareLink
from tests.factories import make_photo, make_project, make_tenant


@dataclass
class Shared:
    link: ShareLink
    token: str

    @property
    def url(self) -> str:
        return f"/s/{self.token}/"

    @property
    def photos_url(self) -> str:
        return f"/s/{self.token}/api/photos"

    @property
    def picks_url(self) -> str:
        return f"/s/{self.token}/api/picks"

    @property
    def zip_url(self) -> str:
        return f"/s/{self.token}/download/picks.zip"


def derivatives_write(photo: Photo, *, color: tuple[int, int, int] = (40, 120, 200)) -> None:
    """Real WebP thumbnail (320×240) and preview (1600×1200) of ``photo``."""
    for path, size in (
        (thumbnail_path(photo.project, photo.basename), (320, 240)),
        (preview_path(photo.project, photo.basename), (1600, 1200)),
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", size, color).save(path, "WEBP", quality=80)


def public_photo(project: Any, basename: str | None = None, **fields: Any) -> Photo:
    fields.setdefault("visibility", Photo.Visibility.PUBLIC)
    fields.setdefault("width", 1600)
    fields.setdefault("height", 1200)
    photo = make_photo(project, basename, **fields)
    derivatives_write(photo)
    return photo


def share_make(tenant: Any, photos: list[Photo], *, password: str = "", **fields: Any) -> Shared:
    link = ShareLink(tenant=tenant, title=fields.pop("title", "Wedding selects"), **fields)
    if password:
        link.password = make_password(password)
    token = link.token_set()
    link.save()
    link.photos.set(photos)
    return Shared(link=link, token=token)


@pytest.fixture(autouse=True)
def renditions_root(tmp_path: Path, settings: Any) -> Path:
    root = tmp_path / "var" / "share-renditions"
    settings.SHARE_RENDITIONS_ROOT = root
    return root


@pytest.fixture
def shoot(project: Any) -> list[Photo]:
    return [public_photo(project, f"IMG_{n:04d}") for n in range(1, 4)]


@pytest.fixture
def shared(tenant: Any, shoot: list[Photo]) -> Shared:
    return share_make(tenant, shoot, downloads=ShareLink.Downloads.PREVIEW)


@pytest.fixture
def globex_photo(db: Any) -> Photo:
    other = make_tenant("globex2", "Globex Two")
    return public_photo(make_project(other, "Secret"), "SECRET_1")


@pytest.fixture
def photos(project):
    return [make_photo(project, f"IMG_{n:04d}") for n in range(1, 5)]
