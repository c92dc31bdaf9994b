"""The C heap during a run (zemosaic._heap): what a run frees is kept for its next allocations, from every thread,
and the process's allocator behaves as before once the run is over. Read from glibc's own counters (mallinfo2)."""
from __future__ import annotations

import ctypes
import json
import subprocess
import sys
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


# The settings are process-wide, and glibc fixes its arena count once a process has made more than 8 arenas (as the
# test session has long before these tests): each check runs in a new process, as a run of the command line does.
_CHECKS = r"""
import ctypes, json, sys, threading
import numpy as np
from zemosaic import _heap

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                                                "uordblks", "fordblks", "keepcost")]
_heap._LIBC.mallinfo2.restype = MallInfo2
info = _heap._LIBC.mallinfo2
BIG = 64 * 2**20

def in_a_thread(func):  # a new thread: an arena of its own, by glibc's default
    out = []
    t = threading.Thread(target=lambda: out.append(func()))
    t.start()
    t.join()
    return out[0]

def allocate_and_measure():  # mapped bytes while a touched 64 MB buffer lives, free heap bytes once it is freed
    buffer = np.ones(BIG, np.uint8)
    mapped = info().hblkhd
    del buffer
    return mapped, info().fordblks

def heap_size_holding_a_buffer():
    buffer = np.ones(BIG, np.uint8)
    size = info().arena
    del buffer
    return size

out = {"mapped_before": info().hblkhd}
if sys.argv[1] == "one":
    with _heap.freed_memory_kept() as applied:
        out["applied"] = applied
        out["mapped_during"], out["free_after_free"] = in_a_thread(allocate_and_measure)
        out["heap"] = info().arena
        out["heap_next_thread"] = in_a_thread(heap_size_holding_a_buffer)
else:
    with _heap.freed_memory_kept():
        with _heap.freed_memory_kept():
            pass
        out["mapped_during"], out["free_after_free"] = in_a_thread(allocate_and_measure)
out["heap_after_exit"] = info().arena
out["mapped_after_exit"], _ = in_a_thread(allocate_and_measure)
print(json.dumps(out))
"""


def _checks(case: str) -> dict:
    done = subprocess.run([sys.executable, "-c", _CHECKS, case], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_freed_buffer_stays_in_the_heap_during_a_run_and_goes_back_after():
    got = _checks("one")
    assert got["applied"]
    assert got["mapped_during"] < got["mapped_before"] + BIG  # from the heap, not a mapping of its own
    assert got["free_after_free"] >= BIG  # kept, free, for the next allocation
    assert got["heap_next_thread"] <= got["heap"] + MB  # the next thread's buffer reuses it: the heap does not grow
    assert got["heap_after_exit"] < got["heap"] - BIG + MB  # given back to the system on exit (malloc_trim)
    assert got["mapped_after_exit"] >= got["mapped_before"] + BIG  # a mapping of its own again, as before the run


def test_overlapping_holders_keep_the_settings_until_the_last_leaves():
    got = _checks("nested")
    assert got["mapped_during"] < got["mapped_before"] + BIG  # the inner holder left, the outer one still holds
    assert got["free_after_free"] >= BIG
    assert got["mapped_after_exit"] >= got["mapped_before"] + BIG


def _allocate_and_measure() -> tuple[int, int]:
    """In this process: bytes in mappings of their own while a touched 64 MB buffer lives, then free bytes in the
    heaps after it is freed."""
    buffer = np.ones(BIG, np.uint8)
    mapped = _mallinfo().hblkhd
    del buffer
    return mapped, _mallinfo().fordblks


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
