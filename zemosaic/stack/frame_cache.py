"""A disk cache of same-shape frames (one file per cache, read through a memmap) so a group's RAM does not grow
with its number of frames: frames are written into slots as they are loaded or aligned, and read
back row chunk by row chunk by the stacker.

Pages of a shared memmap that a process has touched stay in its resident set until they are unmapped,
so a cache that is written or read in full would make the RSS grow with the number of frames even
though the data live on disk. Every write here, and every whole-frame read through :meth:`FrameCache.read`,
therefore drops the pages it touched (:func:`release_rows`, ``madvise(MADV_DONTNEED)``: the data stay
in the page cache and on disk).
"""
from __future__ import annotations

import contextlib
import errno
import logging
import mmap
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["FrameCache", "ReleasedOnRead", "cache_files_reused", "release_rows", "check_free_space"]

log = logging.getLogger(__name__)


class FrameCache:
    """``n`` frames of one shape (float32 images, or bool masks) in a temporary memmap under ``parent``.

    ``cache[i] = array`` stores a frame; ``cache[i]`` returns a memmap view (no copy in RAM).
    Use as a context manager: the file is deleted on exit (or handed to the next cache, see
    :func:`cache_files_reused`).

    ``over=cache`` writes this cache into ``cache``'s file (grown to fit), slot ``k`` at ``k`` times this cache's
    frame size: for frames made one by one from ``cache``'s, each read before its result is stored (a group's
    frames warped onto the tile's canvas). Slot ``k`` covers ``cache``'s slots ``k`` and up when this cache's frames
    are the larger (so they must be made from the last to the first), ``k`` and down otherwise (first to last):
    :meth:`fill_order`. The file's pages are written once for both, not twice (each new page costs a fault on
    the benchmark machine, see :func:`cache_files_reused`); a slot not yet written reads as zeros. ``cache``
    closes this one when it closes.

    A frame is stored with one positioned write into the file (``os.pwrite``), not through the memmap: writing
    fresh pages of a shared mapping faults them in one by one (~40 ms for a 1080 x 1920 RGB frame against ~6 ms
    written, measured), and the memmap sees the written bytes at once (both go through the page cache).
    """

    def __init__(self, n_frames: int, frame_shape: tuple[int, ...], parent: Path | None = None, name: str = "frames",
                 dtype=np.float32, *, over: FrameCache | None = None):
        self.shape = (int(n_frames),) + tuple(int(s) for s in frame_shape)
        self.dtype = np.dtype(dtype)
        nbytes = int(np.prod(self.shape)) * self.dtype.itemsize
        folder = Path(parent) if parent is not None else Path(tempfile.gettempdir())
        self._sharers: list[FrameCache] = []
        self._over = over
        self._file: _CacheFile | None
        if over is not None:  # written into the file of a cache whose frames are consumed as this one fills
            if over._file is None:
                raise ValueError("the frame cache is closed: no cache can be made over it")
            self._files, self._file, self._owner = None, over._file, False
        else:
            self._files = _REUSED.get(folder.resolve())
            self._file = self._files.take(nbytes) if self._files is not None else None
            self._owner = True
        self._reused = self._file is not None
        if self._file is None:
            self._file = _CacheFile.create(parent, name)
        try:
            self._file.grow(nbytes, f"the {name} frame cache")
        except OSError:
            if self._owner:
                self._file.delete()
            raise
        if over is not None:
            over._sharers.append(self)
        self.path = self._file.path
        self._written = np.zeros(self.shape[0], bool)
        self._array: np.ndarray | None = (np.memmap(self.path, dtype=self.dtype, mode="r+", shape=self.shape)
                                         if nbytes else np.zeros(self.shape, self.dtype))
        self._fd: int | None = os.open(self.path, os.O_RDWR)
        log.debug("frame cache %s: %s %s (%.1f MB on disk%s)", self.path, self.shape, self.dtype, nbytes / 2**20,
                  "" if not self._reused else ", the file of a closed cache" if self._owner else
                  ", the file of the cache its frames are made from")

    def __len__(self) -> int:
        return self.shape[0]

    def fill_order(self) -> list[int]:
        """The order in which this cache's slots must be filled, each from the same slot of the cache it was made
        ``over``, so that no slot of that one still to be read is overwritten: the last first when this cache's
        frames are larger, else (and for a cache with a file of its own) the first first."""
        order = list(range(len(self)))
        if self._over is None:
            return order
        mine = int(np.prod(self.shape[1:])) * self.dtype.itemsize
        theirs = int(np.prod(self._over.shape[1:])) * self._over.dtype.itemsize
        return order[::-1] if mine > theirs else order

    def __getitem__(self, index: int) -> np.ndarray:
        mm = self._mm
        if self._reused and not self._written[index]:  # a closed cache's data: read as the zeros of a new file
            return np.zeros(self.shape[1:], self.dtype)
        return mm[index]

    def __setitem__(self, index: int, frame: np.ndarray) -> None:
        mm = self._mm  # ValueError once closed (the file descriptor closes with the memmap)
        fd = self._fd
        assert fd is not None
        slot = range(len(self))[index]  # IndexError out of range, negative indices from the end
        data = np.ascontiguousarray(np.broadcast_to(np.asarray(frame), self.shape[1:]), dtype=mm.dtype)
        view = data.data.cast("B")
        offset, done = getattr(mm, "offset", 0) + slot * data.nbytes, 0
        while done < len(view):  # pwrite may write less than asked (signals, very large frames)
            done += os.pwrite(fd, view[done:], offset + done)
        self._written[slot] = True
        self.release(slot)

    @property
    def _mm(self) -> np.ndarray:
        """The open memmap (closed by :meth:`close`)."""
        if self._array is None:
            raise ValueError(f"frame cache {self.path} is closed")
        return self._array

    def read(self, index: int) -> np.ndarray:
        """A RAM copy of frame ``index``; the memmap pages it touched are released."""
        frame = np.array(self[index])
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
        """Drop the memmap and delete its file, or hand it to the run's next cache (:func:`cache_files_reused`);
        a cache written into another's file (``over``) leaves the file to that one, which closes it first."""
        for sharer in self._sharers:
            sharer.close()
        self._sharers = []
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._array is not None:
            del self._array
            self._array = None
        if self._file is not None:
            file, self._file = self._file, None
            if self._owner and (self._files is None or not self._files.give(file)):
                file.delete()

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


@dataclass
class _CacheFile:
    """One cache's file, in a temporary folder of its own (what :func:`zemosaic.pipeline.lock` removes after a
    kill -9), and the bytes it holds."""

    folder: Path
    path: Path
    size: int = 0

    @staticmethod
    def create(parent: Path | None, name: str) -> _CacheFile:
        folder = Path(tempfile.mkdtemp(prefix=f"zemosaic_{name}_", dir=parent))
        path = folder / f"{name}.bin"
        path.touch()
        return _CacheFile(folder, path)

    def grow(self, nbytes: int, what: str) -> None:
        """Make the file hold at least ``nbytes`` (the new bytes are a hole: zeros, no disk block, but the disk must
        have room for them: ``OSError(ENOSPC)`` naming ``what`` otherwise, see :func:`check_free_space`)."""
        if nbytes > self.size:
            check_free_space(self.folder, nbytes - self.size, what)
            os.truncate(self.path, nbytes)
            self.size = nbytes

    def delete(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class _ReusedFiles:
    """The files of a folder's closed caches, until the next cache takes one (thread-safe)."""

    def __init__(self) -> None:
        self._free: list[_CacheFile] = []
        self._lock = threading.Lock()
        self.open = True

    def take(self, nbytes: int) -> _CacheFile | None:
        """The smallest free file that holds ``nbytes``, else the largest (the cache grows it); None if none."""
        with self._lock:
            if not self._free:
                return None
            fits = [f for f in self._free if f.size >= nbytes]
            file = min(fits, key=lambda f: f.size) if fits else max(self._free, key=lambda f: f.size)
            self._free.remove(file)
        return file

    def give(self, file: _CacheFile) -> bool:
        """Keep ``file`` for the next cache; False once the scope has ended (the caller deletes it)."""
        with self._lock:
            if self.open:
                self._free.append(file)
            return self.open

    def close(self) -> None:
        with self._lock:
            self.open = False
            files, self._free = self._free, []
        for file in files:
            file.delete()


_REUSED: dict[Path, _ReusedFiles] = {}


@contextlib.contextmanager
def cache_files_reused(parent: Path) -> Iterator[None]:
    """While held, a closed frame cache under ``parent`` hands its file to the next cache created there instead of
    deleting it; the files left are deleted on exit.

    Overwriting a file's pages that are already in the page cache costs a copy; a new file's pages are new memory,
    which the kernel must find and, on the 2-core benchmark machine (a virtual machine whose host takes back the
    pages the guest leaves free), fault in from the host: 1 GB of frames written in 0.11 s of CPU into an existing
    file against 3.4-5.9 s into a new one (measured). A run's master tiles write about 40 MB of file per full-size
    frame into their caches (the debayered frame, the warped frame written over it, its mask; 65 MB when each had its
    own file). A slot that the new cache has not written reads as zeros, as in a new file. A view taken from a cache
    before it was closed must not be read afterwards: it would see the next cache's data.
    """
    key = Path(parent).resolve()
    files = _ReusedFiles()
    previous = _REUSED.get(key)
    _REUSED[key] = files
    try:
        yield
    finally:
        if previous is None:
            _REUSED.pop(key, None)
        else:
            _REUSED[key] = previous
        files.close()


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
