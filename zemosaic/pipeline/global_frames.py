"""Frames aligned once onto the mosaic's global grid: what GRID and SDS modes stack.

:func:`align_frames_to_grid` reads and debayers each frame once, measures its stars for the frame-quality gate
(:func:`zemosaic.pipeline.frame_gate.measure_frame_data`, as Phase 3's loader does), resamples it by its WCS onto
the window of the global grid that bounds its footprint (:func:`zemosaic.mosaic.resample.reproject_planes`, the
kernel Phase 5 uses) and keeps the result in a disk cache (one ``.npy`` memmap per frame, ``H x W x C`` float32,
NaN where the frame has no data). Pixels the resampling only partly supports (the frame's outer edge) are missing,
never averaged in. :mod:`zemosaic.pipeline.mode_quality` then judges the frames as Phase 3's gate does.

:class:`RegionView` presents one frame over a rectangle of the grid as the stacker reads frames (``shape``, row
slices, decimated reads, ``numpy.asarray``), NaN outside the frame, optionally with a photometric correction, so
that a grid tile or an SDS chunk is stacked with the stacker of Phase 3 while RAM holds only the rows it reads.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zemosaic._pixels import finite_in_every_channel
from zemosaic.config import ZeMosaicConfig
from zemosaic.io import fits as fits_io
from zemosaic.mosaic.grid import GlobalGrid
from zemosaic.mosaic.resample import footprint_window, reproject_planes
from zemosaic.pipeline import frame_gate
from zemosaic.progress import ProgressCallback, emit
from zemosaic.stack.frame_cache import check_free_space, release_rows

__all__ = ["AlignedFrame", "FrameSet", "RegionView", "align_frames_to_grid", "frame_window"]

log = logging.getLogger(__name__)

_MIN_SUPPORT = 0.99
"""A resampled pixel is kept when the bilinear weights of the frame's valid pixels sum to at least this."""
MASK_STEP = 8
"""Decimation of the in-RAM validity masks used to pick the frames of a region."""
_RESAMPLE_LOCK = threading.Lock()
"""The numba-parallel kernels (resampling, star detection) take one launch at a time: numba's default threading
layer does not accept concurrent launches from several threads."""


@dataclass
class AlignedFrame:
    """One frame on the global grid: ``window`` ``(y0, y1, x0, x1)`` of the grid, its pixels in ``cache``
    (``.npy``, ``h x w x C`` float32, NaN where missing) and a decimated validity mask (every ``MASK_STEP`` px)."""

    index: int
    path: Path
    window: tuple[int, int, int, int]
    cache: Path
    n_channels: int
    valid_small: np.ndarray = field(repr=False)
    info: Any = field(repr=False, default=None)
    measured: Any = field(repr=False, default=None)  # frame_gate.MeasuredFrame of the raw frame (quality gate)
    _array: np.ndarray | None = field(default=None, repr=False)

    def array(self) -> np.ndarray:
        """The cached pixels as a read-only memmap (opened once)."""
        if self._array is None:
            self._array = np.load(self.cache, mmap_mode="r")
        return self._array

    def valid_fraction(self, region: tuple[int, int, int, int]) -> float:
        """Fraction of ``region`` (grid coordinates) where this frame has data, from the decimated mask."""
        y0, y1, x0, x1 = _intersect(self.window, region)
        if y1 <= y0 or x1 <= x0:
            return 0.0
        fy0, _, fx0, _ = self.window
        sub = self.valid_small[(y0 - fy0) // MASK_STEP:-(-(y1 - fy0) // MASK_STEP),
                               (x0 - fx0) // MASK_STEP:-(-(x1 - fx0) // MASK_STEP)]
        area = (region[1] - region[0]) * (region[3] - region[2])
        return float(sub.mean()) * (y1 - y0) * (x1 - x0) / area if sub.size else 0.0


@dataclass
class FrameSet:
    """The frames of a run aligned onto ``grid``, their cache folder, and the frames that failed with the reason."""

    grid: GlobalGrid
    frames: list[AlignedFrame]
    failed: list[tuple[Path, str]]
    cache_dir: Path

    def close(self) -> None:
        """Remove the cache folder (the memmaps are dropped first)."""
        for f in self.frames:
            f._array = None
        shutil.rmtree(self.cache_dir, ignore_errors=True)

    def __enter__(self) -> FrameSet:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def touching(self, region: tuple[int, int, int, int], min_fraction: float) -> list[AlignedFrame]:
        """The frames covering at least ``min_fraction`` of ``region``, best covering first."""
        scored = [(f.valid_fraction(region), f.index, f) for f in self.frames]
        return [f for frac, _, f in sorted(scored, key=lambda s: (-s[0], s[1])) if frac >= min_fraction and frac > 0]


def frame_window(info, grid: GlobalGrid) -> tuple[int, int, int, int] | None:
    """``(y0, y1, x0, x1)`` of the grid bounding a frame's footprint (from its WCS, no pixels read)."""
    return footprint_window(info.wcs, tuple(info.shape[:2]), grid)


def align_frames_to_grid(frames: Sequence[Any], grid: GlobalGrid, cfg: ZeMosaicConfig, parent: Path,
                         progress_callback: ProgressCallback | None = None) -> FrameSet:
    """Resample every frame (``ScannedFrame``: ``path`` and ``info`` with a WCS) onto ``grid`` once.

    Frames are processed by ``max(1, cfg.max_workers)`` threads (the resampling kernel and the reads release the
    GIL). A frame that cannot be read, has no finite pixel or lies off the grid is listed in ``failed`` with the
    reason and the run goes on. The cache folder (``zemosaic_frames_*`` in ``parent``) is removed by
    :meth:`FrameSet.close` and, after a killed run, by the next run's cleanup.

    Raises
    ------
    OSError
        Not enough free disk space for the cache (the figures in the message).
    """
    windows = []
    for f in frames:
        try:
            windows.append(frame_window(f.info, grid))
        except ValueError:
            windows.append(None)
    n_ch = max(int(f.info.n_channels) for f in frames)
    need = sum((w[1] - w[0]) * (w[3] - w[2]) * n_ch * 4 for w in windows if w is not None)
    check_free_space(parent, need, "the frames aligned on the global grid")
    cache_dir = Path(tempfile.mkdtemp(prefix="zemosaic_frames_", dir=parent))
    done: list[AlignedFrame | None] = [None] * len(frames)
    failed: list[tuple[Path, str]] = []
    lock = threading.Lock()
    counter = [0]

    def one(k: int) -> None:
        frame, reason = _align_one(k, frames[k], windows[k], grid, cfg, cache_dir)
        with lock:
            if frame is None:
                failed.append((frames[k].path, reason or "not aligned"))
            done[k] = frame
            counter[0] += 1
            emit(progress_callback, "frames", counter[0], len(frames), f"on the global grid: {frames[k].path.name}")

    workers = max(1, int(cfg.max_workers) or 1)
    try:
        if workers == 1:
            for k in range(len(frames)):
                one(k)
        else:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(one, range(len(frames))))
    except BaseException:  # deliberate: any failure or interrupt (Ctrl-C, SIGTERM) removes the half-written cache,
        shutil.rmtree(cache_dir, ignore_errors=True)  # then propagates unchanged (nothing is swallowed)
        raise
    kept = [f for f in done if f is not None]
    log.info("frames aligned on the global grid once: %d of %d (%d failed), cache %.0f MB", len(kept), len(frames),
             len(failed), sum(f.cache.stat().st_size for f in kept) / 2**20)
    return FrameSet(grid, kept, failed, cache_dir)


def _align_one(k: int, frame, window, grid: GlobalGrid, cfg: ZeMosaicConfig, cache_dir: Path
               ) -> tuple[AlignedFrame | None, str | None]:
    """Read, resample and cache one frame; (None, reason) when it cannot be used.

    A deliberate per-frame boundary, as Phase 3's loader: whatever goes wrong reading or resampling one frame
    rejects that frame with the error as its reason; memory exhaustion propagates."""
    if window is None:
        return None, "the frame's footprint lies off the global grid"
    try:
        data = fits_io.read_frame(frame.path, debayer_method=cfg.debayer_method, require_wcs=False).data
    except fits_io.FitsInputError as exc:
        return None, exc.reason_for(frame.path)
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - deliberate, logged per-frame boundary (see docstring)
        log.debug("frame %s: load error", frame.path, exc_info=True)
        return None, f"cannot load the frame ({type(exc).__name__}: {exc})"
    values = data[..., None] if data.ndim == 2 else data
    finite = finite_in_every_channel(values)
    if not finite.any() or float(np.nanmax(values)) == float(np.nanmin(values)):
        return None, "no usable pixel (all NaN or constant)"
    planes = _premultiplied(values, finite)
    with _RESAMPLE_LOCK:  # parallel numba kernels: numba's default threading layer takes one launch at a time
        measured = frame_gate.measure_frame_data(data, cfg.align_detection_sigma, cfg.align_min_area)
        out = reproject_planes(planes, frame.info.wcs, grid, window, cfg.assembly_reproject)
    del values, finite, data, planes
    weight = out[..., -1]
    ok = weight >= _MIN_SUPPORT
    n_ch = int(out.shape[-1]) - 1
    pixels = np.full((out.shape[0], out.shape[1], n_ch), np.nan, dtype=np.float32)
    np.divide(out[..., :-1], weight[..., None], out=pixels, where=ok[..., None])
    if not ok.any():
        return None, "no pixel of the frame lands on the global grid"
    path = cache_dir / f"frame_{k:05d}.npy"
    np.save(path, pixels)
    small = ok[::MASK_STEP, ::MASK_STEP].copy()
    y0, y1, x0, x1 = (int(v) for v in window)
    return AlignedFrame(k, frame.path, (y0, y1, x0, x1), path, n_ch, small, frame.info, measured), None


def _premultiplied(values: np.ndarray, finite: np.ndarray) -> np.ndarray:
    planes = np.empty(values.shape[:2] + (values.shape[2] + 1,), dtype=np.float32)
    planes[..., :-1] = np.where(finite[..., None], values, 0.0)
    planes[..., -1] = finite
    return planes


def _intersect(a, b) -> tuple[int, int, int, int]:
    return max(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), min(a[3], b[3])


class RegionView:
    """One aligned frame over ``region`` ``(y0, y1, x0, x1)`` of the grid, read as the stacker reads a frame.

    ``shape`` is the region's ``(h, w, C)`` (``(h, w)`` for mono); indexing reads only the rows asked for from the
    frame's memmap (a RAM copy, NaN outside the frame, the memmap's pages released after the read), with
    ``correct(values, x, y)`` applied at global pixel coordinates when given."""

    def __init__(self, frame: AlignedFrame, region: tuple[int, int, int, int],
                 correct: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None):
        self._frame, self._region, self._correct = frame, region, correct
        h, w = region[1] - region[0], region[3] - region[2]
        self._hwc = (h, w, frame.n_channels)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._hwc if self._hwc[2] > 1 else self._hwc[:2]

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float32)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        return self._hwc[0]

    def __getitem__(self, key) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        rows = np.arange(self._hwc[0])[key[0]]
        block = self._rows(np.atleast_1d(rows))
        if np.ndim(rows) == 0:
            block = block[0]
        rest = key[1:]
        out = block[(slice(None),) * (np.ndim(rows) > 0) + rest] if rest else block
        return out if self._hwc[2] > 1 else out[..., 0]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = self[:]
        return out if dtype is None else out.astype(dtype)

    def _rows(self, rows: np.ndarray) -> np.ndarray:
        """``(len(rows), w, C)`` float32 for region rows ``rows`` (ascending or not)."""
        ry0, _, rx0, rx1 = self._region
        fy0, fy1, fx0, fx1 = self._frame.window
        out = np.full((len(rows), rx1 - rx0, self._hwc[2]), np.nan, dtype=np.float32)
        gy = rows + ry0
        inside = (gy >= fy0) & (gy < fy1)
        cx0, cx1 = max(rx0, fx0), min(rx1, fx1)
        if inside.any() and cx1 > cx0:
            arr = self._frame.array()
            src = arr[gy[inside] - fy0, cx0 - fx0:cx1 - fx0]
            out[np.flatnonzero(inside), cx0 - rx0:cx1 - rx0] = src
            release_rows(arr, 0, arr.shape[0])
            if self._correct is not None:
                xs = np.arange(rx0, rx1, dtype=np.float32)[None, :]
                out = np.asarray(self._correct(out, xs, gy.astype(np.float32)[:, None]), dtype=np.float32)
        return out
