"""``core.ranges``: the Range header read as RFC 9110 §14 says, a file served in slices."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from core.ranges import FileSlice, Unsatisfiable, range_parse, ranged_file_response


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 100, None),
        ("", 100, None),
        ("bytes=0-0", 100, (0, 0)),
        ("bytes=0-99", 100, (0, 99)),
        ("bytes=10-", 100, (10, 99)),
        ("bytes=90-500", 100, (90, 99)),
        ("bytes=-10", 100, (90, 99)),
        ("bytes=-500", 100, (0, 99)),
        ("BYTES = 5 - 6", 100, (5, 6)),
        ("bytes=7-3", 100, None),  # invalid: ignored
        ("bytes=-", 100, None),
        ("bytes=a-b", 100, None),
        ("bytes=0-1,4-5", 100, None),  # several ranges: the whole file
        ("lines=0-1", 100, None),
    ],
)
def test_range_parse(header, size, expected):
    assert range_parse(header, size) == expected


@pytest.mark.parametrize(
    ("header", "size"), [("bytes=100-", 100), ("bytes=-0", 100), ("bytes=0-", 0)]
)
def test_range_parse_unsatisfiable(header, size):
    with pytest.raises(Unsatisfiable):
        range_parse(header, size)


def test_a_slice_reads_only_its_bytes_in_blocks(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(bytes(range(256)) * 4)
    fh = path.open("rb")
    fh.seek(250)
    piece = FileSlice(fh, 20)
    assert piece.read(8) == (bytes(range(256)) * 2)[250:258]
    assert piece.read() == (bytes(range(256)) * 2)[258:270]
    assert piece.read(8) == b""
    piece.close()
    assert fh.closed


def test_a_response_streams_the_file_without_reading_it_whole(tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * (5 * 1024 * 1024))
    request = RequestFactory().get("/", HTTP_RANGE="bytes=1048576-")
    response = ranged_file_response(request, path)
    assert response.status_code == 206
    blocks = list(response.streaming_content)  # type: ignore[attr-defined]
    assert len(blocks) > 1  # served in blocks, not one read of the file
    assert max(len(b) for b in blocks) <= response.block_size  # type: ignore[attr-defined]
    assert sum(len(b) for b in blocks) == 4 * 1024 * 1024
    response.file_to_stream.close()  # type: ignore[attr-defined]


def test_a_missing_file_is_404(tmp_path):
    from django.http import Http404

    with pytest.raises(Http404):
        ranged_file_response(RequestFactory().get("/"), tmp_path / "nope.zip")
