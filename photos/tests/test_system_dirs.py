"""``fsrules.system_dir``: the one check before anything is moved or written into a system folder."""

from __future__ import annotations

import pytest

from photos import fsrules
from photos.fsrules import trash_move


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "project"
    path.mkdir()
    return path


@pytest.mark.parametrize("name", fsrules.SYSTEM_DIRS)
def test_a_missing_system_folder_is_created_only_when_asked(folder, name):
    assert fsrules.system_dir(folder, name) == folder / name
    assert not (folder / name).exists()
    assert fsrules.system_dir(folder, name, create=True).is_dir()
    assert fsrules.system_dir(folder, name) == folder / name  # a real folder passes


@pytest.mark.parametrize("name", fsrules.SYSTEM_DIRS)
@pytest.mark.parametrize("target", ["outside", "inside", "dangling"])
def test_a_linked_system_folder_is_refused_wherever_it_points(folder, tmp_path, name, target):
    outside = tmp_path / "outside"
    outside.mkdir()
    points_to = {"outside": outside, "inside": folder, "dangling": tmp_path / "gone"}[target]
    (folder / name).symlink_to(points_to, target_is_directory=True)
    with pytest.raises(
        fsrules.SystemFolderUnsafe, match=f"'{name}' in the project folder is a symlink"
    ):
        fsrules.system_dir(folder, name, create=True)
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("name", fsrules.SYSTEM_DIRS)
def test_a_system_folder_that_is_a_file_is_refused(folder, name):
    (folder / name).write_bytes(b"x")
    with pytest.raises(
        fsrules.SystemFolderUnsafe, match=f"'{name}' in the project folder is not a folder"
    ):
        fsrules.system_dir(folder, name, create=True)
    assert (folder / name).read_bytes() == b"x"


def test_the_message_never_shows_a_server_path(folder):
    (folder / ".trash").write_bytes(b"x")
    with pytest.raises(fsrules.SystemFolderUnsafe) as caught:
        fsrules.system_dir(folder, ".trash")
    assert str(folder) not in str(caught.value)


def test_only_system_folders_are_checked(folder):
    with pytest.raises(ValueError):
        fsrules.system_dir(folder, "photos")


def test_trash_move_into_a_linked_trash_moves_nothing(folder, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (folder / ".trash").symlink_to(outside, target_is_directory=True)
    (folder / "A.cr2").write_bytes(b"raw")
    with pytest.raises(fsrules.SystemFolderUnsafe):
        trash_move(folder, "A.cr2")
    assert (folder / "A.cr2").read_bytes() == b"raw"
    assert list(outside.iterdir()) == []
