"""A disk cache of same-shape frames (one ``.npy`` memmap per cache) so a group's RAM does not grow
with its number of frames: frames are written into slots as they are loaded or aligned, and read
back row chunk by row chunk by the stacker.

Pages of a shared memmap that a process has touched stay in its resident set until they are unmapped,
so a cache that is written or read in full would make the RSS grow with the number of frames even
though the data live on disk. Every write here, and every whole-frame read through :meth:`FrameCache.read`,
therefore drops the pages it touched (:func:`release_rows`, ``madvise(MADV_DONTNEED)``: the data stay
in the page cache and on disk).
"""
from __future__ import annotations

import errno
import logging
import mmap
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

__all__ = ["FrameCache", "ReleasedOnRead", "release_rows", "check_free_space"]

log = logging.getLogger(__name__)


class FrameCache:
    """``n`` frames of one shape (float32 images, or bool masks) in a temporary memmap under ``parent``.

    ``cache[i] = array`` stores a frame; ``cache[i]`` returns a memmap view (no copy in RAM).
    Use as a context manager: the files are deleted on exit.

    A frame is stored with one positioned write into the file (``os.pwrite``), not through the memmap: writing
    fresh pages of a shared mapping faults them in one by one (~40 ms for a 1080 x 1920 RGB frame against ~6 ms
    written, measured), and the memmap sees the written bytes at once (both go through the page cache).
    """

    def __init__(self, n_frames: int, frame_shape: tuple[int, ...], parent: Path | None = None, name: str = "frames",
                 dtype=np.float32):
        shape = (int(n_frames),) + tuple(int(s) for s in frame_shape)
        check_free_space(Path(parent) if parent is not None else Path(tempfile.gettempdir()),
                         int(np.prod(shape)) * np.dtype(dtype).itemsize, f"the {name} frame cache")
        self._dir = Path(tempfile.mkdtemp(prefix=f"zemosaic_{name}_", dir=parent))
        self.path = self._dir / f"{name}.npy"
        self.shape = (int(n_frames),) + tuple(int(s) for s in frame_shape)
        self._array: np.memmap | None = np.lib.format.open_memmap(self.path, mode="w+", dtype=dtype,
                                                                shape=self.shape)
        self._fd: int | None = os.open(self.path, os.O_RDWR)
        log.debug("frame cache %s: %s float32 (%.1f MB on disk)", self.path, self.shape, self._array.nbytes / 2**20)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index: int) -> np.ndarray:
        return self._mm[index]

    def __setitem__(self, index: int, frame: np.ndarray) -> None:
        mm = self._mm  # ValueError once closed (the file descriptor closes with the memmap)
        fd = self._fd
        assert fd is not None
        slot = range(len(self))[index]  # IndexError out of range, negative indices from the end
        data = np.ascontiguousarray(np.broadcast_to(np.asarray(frame), self.shape[1:]), dtype=mm.dtype)
        view = data.data.cast("B")
        offset, done = mm.offset + slot * data.nbytes, 0
        while done < len(view):  # pwrite may write less than asked (signals, very large frames)
            done += os.pwrite(fd, view[done:], offset + done)
        self.release(slot)

    @property
    def _mm(self) -> np.memmap:
        """The open memmap (closed by :meth:`close`)."""
        if self._array is None:
            raise ValueError(f"frame cache {self.path} is closed")
        return self._array

    def read(self, index: int) -> np.ndarray:
        """A RAM copy of frame ``index``; the memmap pages it touched are released."""
        frame = np.array(self._mm[index])
        self.release(index)
        return frame

    def reader(self, count: int | None = None) -> _CacheReader:
        """A sequence view of the first ``count`` frames (all by default) whose items are RAM copies
        (:meth:`read`): for consumers that take one whole frame at a time (alignment), so no frame
        stays mapped after use."""
        return _CacheReader(self, len(self) if count is None else int(count))

    def release(self, index: int) -> None:
        """Drop the resident pages of frame ``index`` (its data stay on disk)."""
        release_rows(self._mm[index], 0, self.shape[1])

    def close(self) -> None:
        """Drop the memmap and delete its files."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._array is not None:
            del self._array
            self._array = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> FrameCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _CacheReader:
    def __init__(self, cache: FrameCache, count: int):
        self._cache, self._count = cache, count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> np.ndarray:
        if not -self._count <= index < self._count:
            raise IndexError(index)
        return self._cache.read(index % self._count)

    def __iter__(self) -> Iterator[np.ndarray]:  # what iterating over __getitem__ until IndexError does
        return (self._cache.read(i) for i in range(self._count))


class ReleasedOnRead:
    """A read-only view of one cached frame or mask (a memmap slot) whose every read is a RAM copy, after which the
    pages of the whole slot are released: for consumers that read a slot in scattered pieces and do not release it
    themselves (the stacker's noise estimate reads ~24 rows of every valid mask; on a memmap the kernel maps the
    pages around each of them, so most of every mask would stay resident and the RSS would grow with the number of
    frames). Indexing, ``shape``, ``dtype``, ``len`` and ``numpy.asarray`` work as on the array."""

    def __init__(self, frame: np.ndarray):
        self._frame = frame

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._frame.shape)

    @property
    def dtype(self) -> np.dtype:
        return self._frame.dtype

    @property
    def ndim(self) -> int:
        return self._frame.ndim

    def __len__(self) -> int:
        return len(self._frame)

    def __getitem__(self, key) -> np.ndarray:
        out = np.array(self._frame[key])
        release_rows(self._frame, 0, self._frame.shape[0])
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = np.array(self._frame, dtype=dtype)
        release_rows(self._frame, 0, self._frame.shape[0])
        return out


def check_free_space(folder: Path, nbytes: int, what: str) -> None:
    """Raise ``OSError(ENOSPC)`` naming ``folder`` and the figures when it has less than ``nbytes`` free (plus a
    64 MiB margin); a folder whose free space cannot be read is not refused."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        free = shutil.disk_usage(probe).free
    except OSError as exc:
        log.debug("free space of %s unknown: %s", probe, exc)
        return
    need = int(nbytes) + (64 << 20)
    if free < need:
        raise OSError(errno.ENOSPC, f"{os.strerror(errno.ENOSPC)}: {what} needs {need / 2**20:.0f} MB, "
                                    f"{free / 2**20:.0f} MB free", str(folder))


def release_rows(frame, r0: int, r1: int) -> None:
    """Drop the resident pages of rows ``r0:r1`` of a shared ``np.memmap`` (the data stay in the page
    cache and on disk). Arrays that are not memmaps, and copy-on-write maps (mode ``"c"``, whose
    dropped pages would lose edits), are left alone.
    """
    mm = getattr(frame, "_mmap", None)
    if mm is None or getattr(frame, "mode", "c") == "c" or not hasattr(mm, "madvise"):
        return
    block = frame[r0:r1]
    if block.size == 0 or not block.flags.c_contiguous:
        return
    base = np.frombuffer(mm, dtype=np.uint8).ctypes.data
    start = block.ctypes.data - base
    aligned = start - start % mmap.PAGESIZE
    try:
        mm.madvise(mmap.MADV_DONTNEED, aligned, start - aligned + block.nbytes)
    except (OSError, ValueError) as exc:  # an unusual mapping: keep the pages, say why
        log.debug("could not release memmap pages: %s", exc)
