"""Sidecars (``storage.sidecar_bases``): edit files that belong to the photo of their base name."""

from __future__ import annotations

import pytest

from photos import storage


@pytest.mark.parametrize(
    ("name", "bases"),
    [
        ("IMG_1.xmp", ("IMG_1",)),
        ("IMG_1.XMP", ("IMG_1",)),
        ("IMG_1.CR2.xmp", ("IMG_1.CR2", "IMG_1")),
        ("IMG_1.jpg.pp3", ("IMG_1.jpg", "IMG_1")),
        ("IMG_1.dop", ("IMG_1",)),
        ("IMG_1.on1", ("IMG_1",)),
        ("IMG_1.aae", ("IMG_1",)),
        ("IMG_1.THM", ("IMG_1",)),
        ("IMG_1.txt.xmp", ("IMG_1.txt",)),  # not a photo extension inside: one candidate
        ("IMG_1.jpg", ()),
        ("notes.txt", ()),
        ("clip.mp4", ()),
        (".xmp", ()),
        (".IMG_1.xmp", ()),
    ],
)
def test_sidecar_bases(name, bases):
    assert storage.sidecar_bases(name) == bases


def test_an_index_and_a_scan_find_the_same_sidecars(tmp_path):
    for name in ["A.jpg", "A.CR2", "A.xmp", "A.CR2.xmp", "A.pp3", "AB.xmp", "B.xmp", "A.mp4"]:
        (tmp_path / name).write_bytes(b"x")
    index = storage.FolderIndex()
    for found in (storage.files_for_basename(tmp_path, "A"), index.files(tmp_path, "A")):
        assert sorted(found.all) == ["A.CR2", "A.jpg"]
        assert sorted(found.sidecars) == ["A.CR2.xmp", "A.pp3", "A.xmp"]
    (tmp_path / "A.xmp").rename(tmp_path / "gone.bin")
    index.record(tmp_path, removed=["A.xmp"])
    assert sorted(index.files(tmp_path, "A").sidecars) == ["A.CR2.xmp", "A.pp3"]
