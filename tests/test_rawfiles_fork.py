"""The first RAW a django-q worker reads prints no rawpy RuntimeWarning (issue 22, item 1).

django-q forks its workers with ``multiprocessing``; rawpy warns on its first read in such a
child because LibRaw's OpenMP pool deadlocks when inherited from a parent that used it. No
parent of ours reads a RAW (photos/rawfiles.py says why), so the warning is silenced there.
"""

from __future__ import annotations

import importlib
import multiprocessing
import warnings

from tests.raw_fixtures import dng_bytes


def _read_in_child(path: str, queue: multiprocessing.Queue) -> None:
    import photos.rawfiles

    # A worker's warning filters are Python's own plus what the product's modules add when
    # imported (pytest's own filters are set per test and dropped the module's at collection).
    warnings.resetwarnings()
    importlib.reload(photos.rawfiles)
    with warnings.catch_warnings(record=True) as caught:
        photos.rawfiles.raw_pixels(path, min_side=16)
    queue.put([f"{w.category.__name__}: {w.message}" for w in caught])


def test_a_forked_worker_reads_its_first_raw_without_a_warning(tmp_path):
    import photos.rawfiles  # noqa: F401  (the parent imports it, as a worker's parent does)

    path = tmp_path / "IMG_0001.DNG"
    path.write_bytes(dng_bytes(preview_size=(64, 48)))
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_read_in_child, args=(str(path), queue))
    child.start()
    caught = queue.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    assert caught == []
