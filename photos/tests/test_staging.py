"""Upload staging (photos/staging.py): files written straight into the project folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from photos.staging import Staging


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "Wedding"
    path.mkdir()
    return path


def temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_file_is_written_to_a_hidden_temporary_name_in_the_folder(folder):
    staging = Staging(folder, limit=100)
    staged = staging.open("IMG_1.jpg")
    staged.append(b"abc")
    staged.finish()

    [name] = temps(folder)
    assert name.startswith(".IMG_1.jpg.")
    assert staged.read() == b"abc"
    staging.discard()
    assert temps(folder) == []


def test_a_file_past_the_size_limit_stops_being_written_at_once(folder):
    staging = Staging(folder, limit=10)
    staged = staging.open("IMG_1.jpg")
    staged.append(b"x" * 8)
    assert len(temps(folder)) == 1
    staged.append(b"x" * 8)
    # Its temporary file is gone while the rest of the body may still be arriving.
    assert temps(folder) == []
    staged.append(b"x" * 8)
    assert staged.size == 24


def test_a_refused_name_is_never_written(folder):
    staging = Staging(folder)
    staged = staging.open("notes.txt")
    staged.append(b"hello")
    assert list(folder.iterdir()) == []
    assert staged.size == 5


def test_publishing_never_replaces_a_file(folder):
    (folder / "IMG_1.jpg").write_bytes(b"theirs")
    staging = Staging(folder)
    staged = staging.open("IMG_1.jpg")
    staged.append(b"ours")
    staged.finish()
    with pytest.raises(FileExistsError):
        staged.publish(folder / "IMG_1.jpg")
    assert (folder / "IMG_1.jpg").read_bytes() == b"theirs"
    staging.discard()
    assert sorted(p.name for p in folder.iterdir()) == ["IMG_1.jpg"]


def test_unpublish_takes_back_only_its_own_file(folder):
    staging = Staging(folder)
    staged = staging.open("IMG_1.jpg")
    staged.append(b"ours")
    staged.publish(folder / "IMG_1.jpg")
    # Someone replaced it meanwhile (outside the product): theirs stays.
    (folder / "IMG_1.jpg").unlink()
    (folder / "IMG_1.jpg").write_bytes(b"theirs")
    staged.unpublish()
    assert (folder / "IMG_1.jpg").read_bytes() == b"theirs"

    other = staging.open("IMG_2.jpg")
    other.append(b"ours")
    other.publish(folder / "IMG_2.jpg")
    other.unpublish()
    assert not (folder / "IMG_2.jpg").exists()


def test_temporary_files_are_removed_even_after_the_folder_was_renamed(folder):
    staging = Staging(folder)
    staging.open("IMG_1.jpg").append(b"abc")
    tombstone = folder.with_name(".deleted-1234")
    os.rename(folder, tombstone)

    assert not staging.is_folder(folder)
    staging.discard()
    assert temps(tombstone) == []
