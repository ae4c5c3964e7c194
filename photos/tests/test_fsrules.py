"""The file-system rules of SPEC §4 (``photos.fsrules``) and the one folder scanner
(``photos.storage.folder_entries``), on real files."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from photos import fsrules, storage
from photos.fsrules import (
    DestinationExists,
    SystemFolderUnsafe,
    UnsafePath,
    check_name,
    ensure_inside,
    move_no_replace,
    numbered_names,
    system_dir,
    trash_move,
    unique_name,
    write_atomic,
)
from photos.storage import EntryKind, FileClass, folder_entries, folder_files


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty folder of its own (``tmp_path`` also holds the tests' ``PHOTOS_ROOT``)."""
    path = tmp_path / "work"
    path.mkdir()
    return path


# --- move without overwriting -------------------------------------------------------------


def test_move_no_replace_moves_a_file_to_a_free_name(folder):
    (folder / "a.jpg").write_bytes(b"mine")

    move_no_replace(folder / "a.jpg", folder / "b.jpg")

    assert not (folder / "a.jpg").exists()
    assert (folder / "b.jpg").read_bytes() == b"mine"


def test_move_no_replace_refuses_an_existing_target_and_moves_nothing(folder):
    (folder / "a.jpg").write_bytes(b"mine")
    (folder / "b.jpg").write_bytes(b"theirs")

    with pytest.raises(DestinationExists):
        move_no_replace(folder / "a.jpg", folder / "b.jpg")

    assert (folder / "a.jpg").read_bytes() == b"mine"
    assert (folder / "b.jpg").read_bytes() == b"theirs"


def test_move_no_replace_refuses_a_dangling_symlink_as_target(folder):
    (folder / "a.jpg").write_bytes(b"mine")
    os.symlink(folder / "nowhere", folder / "b.jpg")

    with pytest.raises(DestinationExists):
        move_no_replace(folder / "a.jpg", folder / "b.jpg")
    assert (folder / "a.jpg").read_bytes() == b"mine"


def test_a_target_that_appears_between_check_and_move_is_never_overwritten(folder, monkeypatch):
    (folder / "a.jpg").write_bytes(b"mine")
    real_link = os.link

    def someone_writes_first(src, dst, **kwargs):  # type: ignore[no-untyped-def]
        Path(dst).write_bytes(b"theirs")  # lands after any check a caller made
        return real_link(src, dst, **kwargs)

    monkeypatch.setattr(fsrules.os, "link", someone_writes_first)
    with pytest.raises(DestinationExists):
        move_no_replace(folder / "a.jpg", folder / "b.jpg")

    assert (folder / "b.jpg").read_bytes() == b"theirs"
    assert (folder / "a.jpg").read_bytes() == b"mine"


@pytest.mark.parametrize("code", [errno.EPERM, errno.EXDEV, errno.EOPNOTSUPP])
def test_without_hard_links_the_move_falls_back_to_check_then_rename(folder, monkeypatch, code):
    def no_links(src, dst, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(fsrules.os, "link", no_links)
    (folder / "a.jpg").write_bytes(b"mine")
    (folder / "taken.jpg").write_bytes(b"theirs")

    with pytest.raises(DestinationExists):
        move_no_replace(folder / "a.jpg", folder / "taken.jpg")
    move_no_replace(folder / "a.jpg", folder / "free.jpg")

    assert (folder / "taken.jpg").read_bytes() == b"theirs"
    assert (folder / "free.jpg").read_bytes() == b"mine"
    assert not (folder / "a.jpg").exists()


def test_another_link_error_is_raised_and_moves_nothing(folder, monkeypatch):
    def denied(src, dst, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(fsrules.os, "link", denied)
    (folder / "a.jpg").write_bytes(b"mine")

    with pytest.raises(PermissionError):
        move_no_replace(folder / "a.jpg", folder / "b.jpg")
    assert (folder / "a.jpg").read_bytes() == b"mine"
    assert not (folder / "b.jpg").exists()


def test_a_missing_source_raises_file_not_found(folder):
    with pytest.raises(FileNotFoundError):
        move_no_replace(folder / "gone.jpg", folder / "b.jpg")
    assert not (folder / "b.jpg").exists()


def test_folder_rename_refuses_an_existing_folder_even_an_empty_one(folder):
    (folder / "Shoot").mkdir()
    (folder / "Shoot" / "A.jpg").write_bytes(b"mine")
    (folder / "Taken").mkdir()  # os.rename alone would replace this empty folder

    with pytest.raises(DestinationExists):
        fsrules.folder_rename(folder / "Shoot", folder / "Taken")

    assert (folder / "Shoot" / "A.jpg").read_bytes() == b"mine"
    assert (folder / "Taken").is_dir()
    fsrules.folder_rename(folder / "Shoot", folder / "Free")
    assert (folder / "Free" / "A.jpg").read_bytes() == b"mine"
    assert not (folder / "Shoot").exists()


def test_folder_rename_changes_only_the_letter_case(folder):
    (folder / "shoot").mkdir()
    (folder / "shoot" / "A.jpg").write_bytes(b"mine")

    fsrules.folder_rename(folder / "shoot", folder / "Shoot")

    assert _names(folder) == ["Shoot"]
    assert (folder / "Shoot" / "A.jpg").read_bytes() == b"mine"


# --- atomic writes ------------------------------------------------------------------------


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_write_atomic_writes_the_whole_file_with_readable_permissions(folder):
    write_atomic(folder / "a.webp", lambda fh: fh.write(b"data"))

    assert (folder / "a.webp").read_bytes() == b"data"
    assert stat.S_IMODE((folder / "a.webp").stat().st_mode) == 0o644
    assert _names(folder) == ["a.webp"]


def test_a_failure_mid_write_leaves_the_old_file_and_no_partial_or_temporary_file(folder):
    target = folder / "a.xmp"
    target.write_bytes(b"old")

    def dies_halfway(fh):  # type: ignore[no-untyped-def]
        fh.write(b"half of the new")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OSError, match="No space"):
        write_atomic(target, dies_halfway, durable=True)

    assert target.read_bytes() == b"old"
    assert _names(folder) == ["a.xmp"]


def test_a_failure_mid_write_of_a_new_file_leaves_nothing(folder):
    def dies(fh):  # type: ignore[no-untyped-def]
        fh.write(b"partial")
        raise KeyboardInterrupt  # not an Exception: the temporary file still goes

    with pytest.raises(KeyboardInterrupt):
        write_atomic(folder / "new.webp", dies)
    assert _names(folder) == []


def test_a_failing_rename_leaves_no_temporary_file(folder, monkeypatch):
    def replace_fails(src, dst):  # type: ignore[no-untyped-def]
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(fsrules.os, "replace", replace_fails)
    with pytest.raises(OSError, match="Input/output"):
        write_atomic(folder / "a.webp", lambda fh: fh.write(b"data"))
    assert _names(folder) == []


def test_a_durable_write_syncs_before_the_rename(folder, monkeypatch):
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(fsrules.os, "fsync", lambda fd: calls.append("fsync") or real_fsync(fd))
    monkeypatch.setattr(
        fsrules.os, "replace", lambda a, b: calls.append("replace") or real_replace(a, b)
    )

    write_atomic(folder / "a.xmp", lambda fh: fh.write(b"x"), durable=True)
    write_atomic(folder / "b.webp", lambda fh: fh.write(b"x"))

    assert calls == ["fsync", "replace", "replace"]


def test_write_atomic_keeps_the_mode_of_the_file_it_replaces_unless_told(folder):
    target = folder / "a.xmp"
    target.write_bytes(b"old")
    target.chmod(0o600)

    write_atomic(target, lambda fh: fh.write(b"new"))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    write_atomic(target, lambda fh: fh.write(b"newer"), mode=0o644)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert target.read_bytes() == b"newer"


def test_publishing_without_replace_never_overwrites_and_cleans_up(folder):
    (folder / "IMG.jpg").write_bytes(b"someone else's")

    with pytest.raises(FileExistsError):
        write_atomic(folder / "IMG.jpg", lambda fh: fh.write(b"upload"), replace=False)

    assert (folder / "IMG.jpg").read_bytes() == b"someone else's"
    assert _names(folder) == ["IMG.jpg"]
    write_atomic(folder / "NEW.jpg", lambda fh: fh.write(b"upload"), replace=False)
    assert (folder / "NEW.jpg").read_bytes() == b"upload"
    assert _names(folder) == ["IMG.jpg", "NEW.jpg"]


def test_the_temporary_file_is_hidden_while_it_is_written(folder):
    seen: list[tuple[str, EntryKind]] = []
    write_atomic(
        folder / "a.webp",
        lambda fh: seen.extend((e.name, e.kind) for e in folder_entries(folder)),
    )

    [(name, kind)] = seen
    assert name.startswith(".a.webp.")
    assert name.endswith(".tmp")
    assert kind == EntryKind.HIDDEN  # never taken for a photo or reported as unaccepted


# --- unique names -------------------------------------------------------------------------


def test_unique_name_numbers_from_two_and_keeps_the_extension(folder):
    assert unique_name(folder, "A.JPG") == "A.JPG"
    (folder / "A.JPG").write_bytes(b"1")
    assert unique_name(folder, "A.JPG") == "A~2.JPG"
    (folder / "A~2.JPG").write_bytes(b"2")
    assert unique_name(folder, "A.JPG") == "A~3.JPG"
    (folder / "README").write_bytes(b"x")
    assert unique_name(folder, "README") == "README~2"
    (folder / "IMG.CR2.xmp").write_bytes(b"x")
    assert unique_name(folder, "IMG.CR2.xmp") == "IMG.CR2~2.xmp"


def test_unique_name_counts_a_dangling_symlink_as_taken(folder):
    os.symlink(folder / "nowhere", folder / "A.jpg")
    assert unique_name(folder, "A.jpg") == "A~2.jpg"


def test_numbered_names_count_from_one_and_fit_the_byte_limit():
    names = numbered_names("IMG_1", "_duplicate", max_bytes=200)
    assert [next(names) for _ in range(3)] == [
        "IMG_1_duplicate1",
        "IMG_1_duplicate2",
        "IMG_1_duplicate3",
    ]

    long = "é" * 100  # 200 bytes
    names = numbered_names(long, "_duplicate", max_bytes=200)
    first = next(names)
    assert first.endswith("_duplicate1")
    assert len(first.encode()) <= 200
    assert first.startswith("é" * 94)  # whole characters only: 188 bytes + 11
    for _ in range(20):
        assert len(next(names).encode()) <= 200


def test_truncate_utf8_cuts_whole_characters():
    assert fsrules.truncate_utf8("éé", 3) == "é"
    assert fsrules.truncate_utf8("📷a", 3) == ""
    assert fsrules.truncate_utf8("abc", 10) == "abc"


# --- trash --------------------------------------------------------------------------------


def test_trash_move_keeps_the_name_and_numbers_a_taken_one(folder):
    for content in (b"first", b"second", b"third"):
        (folder / "A.jpg").write_bytes(content)
        trash_move(folder, "A.jpg")

    trash = folder / ".trash"
    assert _names(trash) == ["A.jpg", "A~2.jpg", "A~3.jpg"]
    assert (trash / "A.jpg").read_bytes() == b"first"
    assert (trash / "A~3.jpg").read_bytes() == b"third"
    assert not (folder / "A.jpg").exists()


def test_trash_move_keeps_the_mtime_and_stamps_the_trash_time(folder):
    (folder / "A.cr2").write_bytes(b"raw")
    os.utime(folder / "A.cr2", (1_000_000, 1_000_000))

    assert trash_move(folder, "A.cr2") == "A.cr2"

    trashed = (folder / ".trash" / "A.cr2").stat()
    assert trashed.st_mtime == 1_000_000
    assert fsrules.trashed_at(trashed) > 1_000_000 + 3600


def test_a_trash_name_taken_during_the_move_is_skipped_never_overwritten(folder, monkeypatch):
    (folder / "A.jpg").write_bytes(b"mine")
    (folder / ".trash").mkdir()
    real_move = fsrules.move_no_replace
    raced: list[Path] = []

    def another_commit_wins_once(src, dst):  # type: ignore[no-untyped-def]
        if not raced:
            dst.write_bytes(b"theirs")  # the name unique_name chose is taken meanwhile
            raced.append(dst)
        return real_move(src, dst)

    monkeypatch.setattr(fsrules, "move_no_replace", another_commit_wins_once)
    assert trash_move(folder, "A.jpg") == "A~2.jpg"

    assert (folder / ".trash" / "A.jpg").read_bytes() == b"theirs"
    assert (folder / ".trash" / "A~2.jpg").read_bytes() == b"mine"


def test_trash_move_of_a_file_already_gone_is_done(folder):
    assert trash_move(folder, "A.jpg") is None
    assert not (folder / ".trash").exists()


@pytest.mark.parametrize("name", ["../A.jpg", "a/b.jpg", "", "..", "A\x00.jpg"])
def test_trash_move_refuses_an_unsafe_name(folder, name):
    with pytest.raises(UnsafePath):
        trash_move(folder, name)


def test_trash_move_refuses_a_linked_trash_and_moves_nothing(folder):
    elsewhere = folder / "elsewhere"
    elsewhere.mkdir()
    project = folder / "p"
    project.mkdir()
    (project / "A.jpg").write_bytes(b"mine")
    os.symlink(elsewhere, project / ".trash")

    with pytest.raises(SystemFolderUnsafe, match="'.trash' in the project folder is a symlink"):
        trash_move(project, "A.jpg")
    assert (project / "A.jpg").read_bytes() == b"mine"
    assert _names(elsewhere) == []


# --- containment --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Invalid"),
        (".", "Invalid"),
        ("..", "Invalid"),
        ("../x.jpg", "path separators"),
        ("a/b.jpg", "path separators"),
        ("a\\b.jpg", "path separators"),
        ("/etc/passwd", "path separators"),
        ("..x.jpg", "'..' is not allowed"),
        ("a\x00.jpg", "NUL byte"),
    ],
)
def test_check_name_refuses_names_that_could_leave_the_folder(name, message):
    with pytest.raises(UnsafePath, match=message):
        check_name(name)


@pytest.mark.parametrize("name", ["IMG_1.jpg", ".DS_Store", "a..b.jpg", "Shoot (2)", "水.jpg"])
def test_check_name_accepts_ordinary_names(name):
    assert check_name(name) == name


def test_ensure_inside_follows_symlinks_and_refuses_one_leaving_the_root(folder):
    root, outside = folder / "root", folder / "outside"
    (root / "inner").mkdir(parents=True)
    outside.mkdir()
    os.symlink(outside, root / "escape")
    os.symlink(root / "inner", root / "shortcut")

    assert ensure_inside(root / "inner" / "a.jpg", root) == root / "inner" / "a.jpg"
    assert ensure_inside(root / "shortcut" / "a.jpg", root) == root / "shortcut" / "a.jpg"
    assert ensure_inside(root, root) == root
    with pytest.raises(UnsafePath):
        ensure_inside(root / "escape" / "a.jpg", root)
    with pytest.raises(UnsafePath):
        ensure_inside(root / ".." / "outside", root)
    with pytest.raises(UnsafePath):
        ensure_inside(Path("/etc/passwd"), root)


def test_project_paths_refuse_unsafe_names_and_a_folder_linked_out_of_the_tenant(project, folder):
    with pytest.raises(UnsafePath):
        storage.file_path(project, "../other/IMG.jpg")
    with pytest.raises(UnsafePath):
        storage.thumbnail_path(project, "a/b")
    with pytest.raises(UnsafePath):
        storage.project_dir(project, folder="..")

    project_folder = storage.project_dir(project)
    project_folder.rename(project_folder.with_name("moved"))
    os.symlink(folder, project_folder)  # ``folder`` is outside PHOTOS_ROOT
    with pytest.raises(UnsafePath, match="leaves"):
        storage.project_dir(project)


# --- system folders -----------------------------------------------------------------------


@pytest.mark.parametrize("name", fsrules.SYSTEM_DIRS)
def test_a_system_folder_linked_back_into_the_project_is_refused_too(folder, name):
    (folder / "inside").mkdir()
    os.symlink(folder / "inside", folder / name)

    with pytest.raises(SystemFolderUnsafe, match="symlink"):
        system_dir(folder, name, create=True)


def test_a_system_folder_that_is_a_file_is_refused_and_left_alone(folder):
    (folder / ".thumb").write_bytes(b"not a folder")

    with pytest.raises(SystemFolderUnsafe, match="not a folder"):
        system_dir(folder, ".thumb", create=True)
    assert (folder / ".thumb").read_bytes() == b"not a folder"


def test_only_system_folders_are_checked_as_such(folder):
    with pytest.raises(ValueError, match="not a system folder"):
        system_dir(folder, "photos")


# --- the folder scanner -------------------------------------------------------------------


def _make(folder: Path, *names: str) -> None:
    for name in names:
        (folder / name).write_bytes(b"x")


def test_the_scanner_classifies_every_entry(folder):
    _make(
        folder,
        "IMG_1.JPG",
        "IMG_1.Jpeg",
        "IMG_1.cr2",
        "IMG_2.NEF",
        "IMG_3.HEIC",
        "IMG_3.tif",
        "IMG_1.xmp",
        "IMG_1.CR2.XMP",
        "IMG_2.pp3",
        "IMG_9.aae",
        "notes.txt",
        "movie.MOV",
        "README",
        ".DS_Store",
        ".project.yaml",
        ".hidden.jpg",
    )
    for name in (".thumb", ".trash", "sub", ".git"):
        (folder / name).mkdir()
    os.symlink(folder / "IMG_1.JPG", folder / "link.jpg")
    os.symlink(folder / "sub", folder / ".preview")
    os.mkfifo(folder / "pipe.jpg")
    os.mkfifo(folder / ".socket")

    found = {entry.name: entry for entry in folder_entries(folder)}

    kinds = {name: entry.kind for name, entry in found.items()}
    assert kinds == {
        "IMG_1.JPG": EntryKind.ORIGINAL,
        "IMG_1.Jpeg": EntryKind.ORIGINAL,
        "IMG_1.cr2": EntryKind.ORIGINAL,
        "IMG_2.NEF": EntryKind.ORIGINAL,
        "IMG_3.HEIC": EntryKind.ORIGINAL,
        "IMG_3.tif": EntryKind.ORIGINAL,
        "IMG_1.xmp": EntryKind.SIDECAR,
        "IMG_1.CR2.XMP": EntryKind.SIDECAR,
        "IMG_2.pp3": EntryKind.SIDECAR,
        "IMG_9.aae": EntryKind.SIDECAR,  # a sidecar by name, even with no photo of its base
        "notes.txt": EntryKind.UNACCEPTED,
        "movie.MOV": EntryKind.UNACCEPTED,
        "README": EntryKind.UNACCEPTED,
        ".DS_Store": EntryKind.HIDDEN,
        ".project.yaml": EntryKind.HIDDEN,
        ".hidden.jpg": EntryKind.HIDDEN,
        ".thumb": EntryKind.SYSTEM_DIR,
        ".trash": EntryKind.SYSTEM_DIR,
        "sub": EntryKind.DIR,
        ".git": EntryKind.DIR,
        "link.jpg": EntryKind.SYMLINK,
        ".preview": EntryKind.SYMLINK,  # a linked system folder is never taken for one
        "pipe.jpg": EntryKind.SPECIAL,
        ".socket": EntryKind.HIDDEN,
    }
    assert found["IMG_1.Jpeg"].file_class == FileClass.JPG
    assert found["IMG_1.cr2"].file_class == FileClass.RAW
    assert found["IMG_3.HEIC"].file_class == FileClass.OTHER
    assert found["IMG_1.JPG"].bases == ("IMG_1",)
    assert found["IMG_1.CR2.XMP"].bases == ("IMG_1.CR2", "IMG_1")
    assert found["notes.txt"].bases == ()


def test_the_scanner_raises_for_a_missing_folder(folder):
    with pytest.raises(FileNotFoundError):
        list(folder_entries(folder / "unmounted"))


def test_folder_files_groups_originals_and_sidecars_by_base_name(folder):
    _make(folder, "A.JPG", "A.cr2", "A.CR2.xmp", "A.xmp", "B.png", "C.xmp", "x.txt", ".A.jpg")

    everything = folder_files(folder)
    assert sorted(everything) == ["A", "A.CR2", "B", "C"]
    a = everything["A"]
    assert (a.jpg, a.raw, a.other) == (["A.JPG"], ["A.cr2"], [])
    assert sorted(a.sidecars) == ["A.CR2.xmp", "A.xmp"]
    assert everything["C"].all == []  # sidecars only: no photo
    assert folder_files(folder, {"B"}) == {"B": everything["B"]}
    assert folder_files(folder / "missing") == {}
    assert storage.files_for_basename(folder, "Z").with_sidecars == []
