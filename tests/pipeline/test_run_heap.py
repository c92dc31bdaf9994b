"""The C heap during a run (zemosaic._heap): what a run frees is kept for its next allocations, from every thread,
and the process's allocator behaves as before once the run is over. Read from glibc's own counters (mallinfo2)."""
from __future__ import annotations

import ctypes
import threading

import numpy as np
import pytest

from zemosaic import _heap
from zemosaic.pipeline.run import run_mosaic

pytestmark = pytest.mark.skipif(_heap._LIBC is None or not hasattr(_heap._LIBC, "mallinfo2"),
                                reason="glibc >= 2.33 only (mallinfo2)")

MB = 2**20
BIG = 64 * MB  # above glibc's largest mmap threshold (32 MB): a mapping of its own by default


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]


def _mallinfo() -> _MallInfo2:
    fn = _heap._LIBC.mallinfo2
    fn.restype = _MallInfo2
    return fn()


def _in_a_thread(func):
    """``func()`` in a new thread (its own arena, by glibc's default), its result returned."""
    out = []
    thread = threading.Thread(target=lambda: out.append(func()))
    thread.start()
    thread.join()
    return out[0]


def _allocate_and_measure() -> tuple[int, int]:
    """Bytes in mappings of their own while a touched 64 MB buffer lives, then free bytes in the heaps after it
    is freed."""
    buffer = np.ones(BIG, np.uint8)
    mapped = _mallinfo().hblkhd
    del buffer
    return mapped, _mallinfo().fordblks


def _heap_size_holding_a_buffer() -> int:
    """The heaps' size while a touched 64 MB buffer lives."""
    buffer = np.ones(BIG, np.uint8)
    size = _mallinfo().arena
    del buffer
    return size


def test_a_freed_buffer_stays_in_the_heap_during_a_run_and_goes_back_after():
    mapped_before = _mallinfo().hblkhd
    with _heap.freed_memory_kept() as applied:
        assert applied
        mapped, free_after = _in_a_thread(_allocate_and_measure)
        assert mapped < mapped_before + BIG  # from the heap, not a mapping of its own
        assert free_after >= BIG  # kept, free, for the next allocation
        heap = _mallinfo().arena
        assert _in_a_thread(_heap_size_holding_a_buffer) <= heap + MB  # the next thread's buffer reuses it
    assert _mallinfo().fordblks < BIG  # given back to the system on exit (malloc_trim)
    mapped, _ = _in_a_thread(_allocate_and_measure)
    assert mapped >= mapped_before + BIG  # a mapping of its own again, as before the run


def test_overlapping_holders_keep_the_settings_until_the_last_leaves():
    with _heap.freed_memory_kept():
        with _heap.freed_memory_kept():
            pass
        mapped, free_after = _allocate_and_measure()
        assert free_after >= BIG
    assert _mallinfo().fordblks < BIG


def test_a_run_allocates_its_large_buffers_from_the_kept_heap(tiny_frames, tmp_path):
    mapped_during: list[int] = []
    lock = threading.Lock()

    def watch(event) -> None:
        if event.phase == "stack" and not mapped_during:
            with lock:
                mapped_during.append(_allocate_and_measure()[0] - _mallinfo().hblkhd)

    run_mosaic(tiny_frames, tmp_path / "out", progress_callback=watch)
    assert mapped_during == [0]  # no mapping of its own for the 64 MB buffer during the run
    mapped, _ = _allocate_and_measure()
    assert mapped >= BIG
