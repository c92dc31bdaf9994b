"""The C heap of a run: memory that the run frees is kept and handed out again, not given back to the system.

A run allocates and frees the same large buffers over and over: a debayered frame (25 MB at Seestar size), its
luminance, the warped frame on the tile's canvas (30-40 MB), the stacker's row chunks, the mosaic's planes. glibc's
allocator serves blocks of more than its mmap threshold (at most 32 MB) from a fresh mapping that it unmaps on
``free``, and gives every thread of a run (the read-ahead, two master tiles, the kernels' pool) an arena of its
own, whose empty heaps it unmaps too. Each such buffer therefore comes back from the kernel as new pages, which the
kernel zeroes on their first touch. On the 2-core benchmark machine (a virtual machine whose host takes back the
pages the guest leaves free) a new page costs about 2 ms a megabyte: a 48-frame full-size run faulted 4 GB of
them, about 8 CPU-s (``perf``: the kernel zeroing them).

:func:`freed_memory_kept` has glibc keep what is freed during a run: every thread allocates from the main
arena (one heap, so a buffer freed by one thread serves the next thread's allocation), large blocks come from that
heap instead of their own mappings, and the heap is not trimmed. On that machine the same run faults 0.45 GB of new
anonymous pages instead of 4 GB and peaks 500 MB lower (the threads' arenas no longer hold freed memory side by
side). On exit the process's own settings come back and the heap's free memory goes back to the system
(``malloc_trim``). Elsewhere than glibc (macOS, Windows, musl) it does nothing.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import threading
from collections.abc import Iterator

__all__ = ["freed_memory_kept", "keep_freed_memory"]

log = logging.getLogger(__name__)

# mallopt's parameters (glibc's malloc.h) and the values glibc starts with
_M_TRIM_THRESHOLD, _M_MMAP_MAX, _M_ARENA_MAX = -1, -4, -8
_DEFAULT_TRIM_THRESHOLD = 128 * 1024
_DEFAULT_MMAP_MAX = 65536
_NEVER_TRIM = -1  # mallopt(3): "-1 disables trimming completely"

_lock = threading.Lock()
_holders = 0  # runs in this process inside freed_memory_kept (two runs may overlap in a GUI or a script)


def _glibc() -> ctypes.CDLL | None:
    """The process's C library when it is glibc (it has ``mallopt`` and ``malloc_trim``), else None."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018 - only glibc has it
        libc.mallopt, libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    return libc


_LIBC = _glibc()


def keep_freed_memory() -> bool:
    """Keep the memory the process frees for its next allocations from now on, for the process's life (a worker
    process of the run); returns whether the settings apply (False where the C library is not glibc)."""
    global _holders
    if _LIBC is None:
        return False
    with _lock:
        if _holders == 0:
            _LIBC.mallopt(_M_ARENA_MAX, 1)
            _LIBC.mallopt(_M_MMAP_MAX, 0)
            _LIBC.mallopt(_M_TRIM_THRESHOLD, _NEVER_TRIM)
            log.debug("C heap: freed memory kept for reuse (one arena, no mmap, no trim)")
        _holders += 1
    return True


@contextlib.contextmanager
def freed_memory_kept() -> Iterator[bool]:
    """While held, glibc keeps the memory the process frees for its next allocations (see the module); yields
    whether the settings apply (False where the C library is not glibc). Nested and overlapping holders share
    the settings, which the last one out restores, then gives the heap's free memory back to the system.

    glibc fixes its arena count once, when a process first needs more than 8 arenas: the limit cannot be lifted
    again once applied (threads keep allocating from the arenas that exist then), nor applied in a process that has
    already run more than 8 threads at once (a test session, a script's own pools), whose threads then keep arenas
    of their own and return what they free as before (the command line and the window's run process start fresh).
    """
    global _holders
    if not keep_freed_memory():
        yield False
        return
    try:
        yield True
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _LIBC is not None:
                _LIBC.mallopt(_M_MMAP_MAX, _DEFAULT_MMAP_MAX)
                _LIBC.mallopt(_M_TRIM_THRESHOLD, _DEFAULT_TRIM_THRESHOLD)
                _LIBC.malloc_trim(0)
