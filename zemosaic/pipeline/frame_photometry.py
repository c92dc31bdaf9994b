"""The frames of a GRID or SDS run matched photometrically to each other on the global grid.

:func:`solve_frame_photometry` runs the inter-tile solve of Phase 4.5
(:func:`zemosaic.mosaic.harmony.solve_tile_harmony`) on the frames' overlaps: the gain ratios from the stars both
frames hold (local-sky-subtracted aperture fluxes, :mod:`zemosaic.mosaic.star_photometry`), the offsets and planes
from block medians of the diffuse sky. The frames are already on the global grid, so their overlaps are read
without resampling. Each frame keeps its largest overlaps only, so the solve grows linearly with the frames.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from zemosaic._pixels import finite_in_every_channel
from zemosaic._stats import block_mean
from zemosaic.config import ZeMosaicConfig
from zemosaic.mosaic import harmony, star_photometry
from zemosaic.pipeline.global_frames import MASK_STEP, AlignedFrame, FrameSet

__all__ = ["solve_frame_photometry"]

log = logging.getLogger(__name__)

_MAX_PAIRS = 8         # overlaps kept per frame with other fields (its largest): the solve grows linearly
_MAX_SAME_FIELD = 4    # of which at most this many with frames of its own field (they share most of it)
_FRAME_STARS = 300     # brightest stars photometered per frame (the ladder of apertures costs per star)
# measured on the demo (SDS, 40 frames): 1500 stars / 8 same-field pairs -> 300 / 4: the solve's part of the run
# 119 -> 99 s, photometric scatter 0.0042 -> 0.0041, sky left 3.11 -> 3.12 ADU (bench/bench_modes.py figures)
_SAMPLES_PER_PAIR = 200  # about this many block samples per overlap at most (larger blocks on large overlaps)


def solve_frame_photometry(frameset: FrameSet, cfg: ZeMosaicConfig) -> dict[int, harmony.TileCorrection]:
    """Per frame ``gain, offset (+ plane)`` that make the frames agree on their overlaps (frame index -> correction).

    Each frame is read once: its stars are measured at full resolution (positions on the global grid) and its
    block means kept on the grid decimated as Phase 4.5 does; each frame keeps its 4 largest overlaps within its
    field and its 8 largest with other fields (the strips that tie the panels). The solve is
    :func:`zemosaic.mosaic.harmony.solve_tile_harmony` (``harmonize_plane``), anchored on the mean."""
    frames = frameset.frames
    min_side = min(min(f.valid_small.shape) for f in frames) * MASK_STEP
    factor = int(np.clip(min_side // 128, 1, 8))  # blocks of ~1/32 frame, as Phase 4.5's, on fewer pixels
    block = int(np.clip(min_side // (32 * factor), 2, 8))
    views = [_frame_view(f, factor, frameset.cache_dir) for f in frames]
    overlaps = _frame_overlaps(views, factor, block)
    n_ch = max(f.n_channels for f in frames)
    if not overlaps:
        log.info("frame photometry: no overlap between frames, frames left as they are")
        return {f.index: _identity(n_ch) for f in frames}
    solution = harmony.solve_tile_harmony(overlaps, len(frames), n_channels=n_ch, anchor="mean",
                                          plane=cfg.harmonize_plane, image_shape=frameset.grid.shape)
    gains = np.array([c.gain for c in solution.corrections])
    log.info("frame photometry: %d frames, %d overlaps, gains %.3f..%.3f, rms %s -> %s", len(frames),
             len(overlaps), float(gains.min()), float(gains.max()), _round(solution.rms_before),
             _round(solution.rms_after))
    return {f.index: c for f, c in zip(frames, solution.corrections, strict=True)}


def _round(values) -> list:
    return [round(float(v), 3) for v in np.ravel(values)] if values is not None else []


def _identity(n_ch: int) -> harmony.TileCorrection:
    return harmony.TileCorrection(np.ones(n_ch), np.zeros(n_ch), np.zeros((n_ch, 2)))


@dataclass
class _FrameView:
    origin: tuple[int, int]   # decimated (row, col) of values[0, 0]
    values: np.ndarray        # decimated block means, (h, w, C)
    valid: np.ndarray         # fully covered blocks
    stars: star_photometry.StarFluxes


def _frame_view(frame: AlignedFrame, factor: int, folder) -> _FrameView:
    """The frame's stars and block means; the block means go to the cache folder (memmapped back), so RAM holds
    the star catalogues only, whatever the number of frames."""
    arr = np.asarray(frame.array())
    fy0, _, fx0, _ = frame.window
    kept = finite_in_every_channel(arr)
    stars = star_photometry.measure_stars(np.where(kept[..., None], arr, 0.0).astype(np.float32), kept,
                                          max_stars=_FRAME_STARS)
    if stars.n_stars:
        stars = replace(stars, x=np.asarray(stars.x, dtype=np.float64) + fx0,
                        y=np.asarray(stars.y, dtype=np.float64) + fy0)
    py, px = fy0 % factor, fx0 % factor  # pad so that blocks fall on the global lattice
    values = np.pad(np.nan_to_num(arr, nan=0.0), ((py, 0), (px, 0), (0, 0)))
    kept = np.pad(kept, ((py, 0), (px, 0)))
    mean, full = block_mean(values, kept, factor)
    del arr, values, kept
    np.save(folder / f"blocks_{frame.index:05d}.npy", mean.astype(np.float32))
    np.save(folder / f"blocks_{frame.index:05d}_ok.npy", full)
    return _FrameView(((fy0 - py) // factor, (fx0 - px) // factor),
                      np.load(folder / f"blocks_{frame.index:05d}.npy", mmap_mode="r"),
                      np.load(folder / f"blocks_{frame.index:05d}_ok.npy", mmap_mode="r"), stars)


def _frame_overlaps(views: Sequence[_FrameView], factor: int, block: int) -> list:
    """Overlaps of each frame with its ``_MAX_SAME_FIELD`` largest neighbours (by shared decimated cells) among the
    frames of its own field (sharing more than half of the smaller frame) and its ``_MAX_PAIRS`` largest among the
    others (the strips where panels meet, which tie the panels together)."""
    areas: dict[tuple[int, int], int] = {}
    sizes = [int(np.count_nonzero(v.valid)) for v in views]
    for i in range(len(views)):
        for j in range(i + 1, len(views)):
            n = _shared_cells(views[i], views[j])
            if n:
                areas[(i, j)] = n
    keep: set[tuple[int, int]] = set()
    for i in range(len(views)):
        mine = sorted(((n, p) for p, n in areas.items() if i in p), reverse=True)
        same = [p for n, p in mine if n > 0.5 * min(sizes[p[0]], sizes[p[1]])]
        other = [p for n, p in mine if n <= 0.5 * min(sizes[p[0]], sizes[p[1]])]
        keep.update(same[:_MAX_SAME_FIELD] + other[:_MAX_PAIRS])
    out = []
    for i, j in sorted(keep):
        coarse = max(block, int(np.ceil(np.sqrt(areas[(i, j)] / _SAMPLES_PER_PAIR))))  # bounded samples per pair
        ov = _pair(views[i], views[j], i, j, factor, coarse)
        if ov is not None:
            out.append(ov)
    return out


def _box(a: _FrameView, b: _FrameView):
    y0, x0 = max(a.origin[0], b.origin[0]), max(a.origin[1], b.origin[1])
    y1 = min(a.origin[0] + a.valid.shape[0], b.origin[0] + b.valid.shape[0])
    x1 = min(a.origin[1] + a.valid.shape[1], b.origin[1] + b.valid.shape[1])
    return y0, y1, x0, x1


def _cut(v: _FrameView, y0, y1, x0, x1):
    return slice(y0 - v.origin[0], y1 - v.origin[0]), slice(x0 - v.origin[1], x1 - v.origin[1])


def _shared_cells(a: _FrameView, b: _FrameView) -> int:
    y0, y1, x0, x1 = _box(a, b)
    if y1 <= y0 or x1 <= x0:
        return 0
    return int(np.count_nonzero(a.valid[_cut(a, y0, y1, x0, x1)] & b.valid[_cut(b, y0, y1, x0, x1)]))


def _pair(a: _FrameView, b: _FrameView, i: int, j: int, factor: int, block: int):
    y0, y1, x0, x1 = _box(a, b)
    sa, sb = _cut(a, y0, y1, x0, x1), _cut(b, y0, y1, x0, x1)
    xs, ys, vi, vj = harmony.sample_overlap(a.values[sa], b.values[sb], a.valid[sa], b.valid[sb], block=block,
                                            origin=(y0, x0))
    if len(xs) == 0:
        return None
    gx = np.asarray(xs, dtype=np.float64) * factor + (factor - 1) / 2.0
    gy = np.asarray(ys, dtype=np.float64) * factor + (factor - 1) / 2.0
    st = star_photometry.match_star_samples(a.stars, b.stars)
    return harmony.TileOverlap(i, j, gx, gy, np.asarray(vi), np.asarray(vj), star_i=st.flux_i, star_j=st.flux_j,
                               star_err=st.err, star_x=st.x, star_y=st.y)
