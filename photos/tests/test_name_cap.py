"""The base name cap: every name derived from a base name that passes fits the file system."""

from __future__ import annotations

import pytest

from photos import fsrules, storage
from photos.reconcile.duplicates import DUPLICATE_SUFFIX


@pytest.mark.parametrize("char", ["a", "é", "水", "📷"])
def test_every_name_derived_from_the_longest_base_name_can_be_created(tmp_path, char):
    width = len(char.encode())
    base = char * (storage.BASENAME_MAX_BYTES // width)
    assert storage.basename_problem(base) is None
    preview = tmp_path / fsrules.PREVIEW_DIR
    preview.mkdir()
    fsrules.write_atomic(preview / f"{base}.webp", lambda fh: fh.write(b"webp"))
    for name in (f"{base}.jpeg", f"{base}.tiff.xmp", f"{base}~999.jpeg"):
        (tmp_path / name).write_bytes(b"x")
    duplicate = fsrules.truncate_utf8(base, storage.BASENAME_MAX_BYTES - 12) + DUPLICATE_SUFFIX
    assert storage.basename_bytes(duplicate + "99") <= storage.BASENAME_MAX_BYTES


def test_a_longer_base_name_is_refused_with_its_size():
    problem = storage.basename_problem("é" * 101)
    assert problem is not None
    assert "202 bytes" in problem
    assert "at most 200" in problem


def test_truncation_keeps_whole_characters():
    assert fsrules.truncate_utf8("éé", 3) == "é"
    assert fsrules.truncate_utf8("abc", 10) == "abc"
