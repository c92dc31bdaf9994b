"""The noise of two mosaics of the same frames compared with the frame counts behind them (issue 28: SDS's
sqrt-N gain over master tiles), used by ``tests/pipeline/test_modes_sds_gain.py`` and ``bench/bench_modes.py``.

* frames per pixel: SDS's is the WEIGHT of its mosaic (the frames stacked there); master tiles' is the effective
  count of their weighted co-addition, ``(sum w)^2 / sum(w^2 / C)`` over the tiles (``w = ALPHA x NFRAMES`` the
  co-addition's weight, ``C`` the tile's COVERAGE: a tile of ``C`` frames has variance ``sigma^2 / C``);
* noise: the residual against the truth (one gain and offset per channel, ``tests/sky_truth.py``), high-passed
  (minus its 15 px box mean, stars masked), averaged over ``block x block`` pixel blocks lying wholly in the
  region; the standard deviation of those means (3-sigma clipped) times ``block``. Resampling smooths the noise
  of the pixels (twice for master tiles: onto the tile, then onto the mosaic), which changes their sigma but not
  the sigma of block means, so the ratio of two mosaics' block noise is that of their frame counts;
* region: the sky where both mosaics have data, frames of two panels or more land (the overlaps) and SDS stacks
  at least ``min_gain`` times the frames master tiles keep; each mosaic is measured on its own pixels there.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

import sky_truth
from zemosaic.io import fits as fits_io
from zemosaic.mosaic import GlobalGrid
from zemosaic.mosaic.resample import footprint_window, reproject_planes

__all__ = ["OverlapGain", "tiles_effective_frames", "panel_overlap", "overlap_gain"]


def tiles_effective_frames(tiles_dir: Path, grid: GlobalGrid) -> np.ndarray:
    """Per pixel of ``grid``: ``(sum w)^2 / sum(w^2 / C)`` over the master tiles of ``tiles_dir``."""
    sum_w = np.zeros(grid.shape)
    sum_w2c = np.zeros(grid.shape)
    for path in sorted(tiles_dir.glob("master_tile_*.fits")):
        tile = fits_io.read_fits_image(path)
        alpha, cov = tile.extensions["ALPHA"], tile.extensions["COVERAGE"]
        weight = np.nan_to_num(alpha) * float(np.nanmax(cov))
        planes = np.stack([weight, weight * np.nan_to_num(cov)], axis=2).astype(np.float32)
        window = footprint_window(tile.wcs, alpha.shape, grid)
        out = reproject_planes(planes, tile.wcs, grid, window, "interp")
        y0, y1, x0, x1 = window
        w = out[..., 0]
        c = np.divide(out[..., 1], w, out=np.zeros_like(w), where=w > 1e-6)
        sum_w[y0:y1, x0:x1] += w
        sum_w2c[y0:y1, x0:x1] += np.divide(w * w, c, out=np.zeros_like(w), where=c > 0.5)
    return np.divide(sum_w ** 2, sum_w2c, out=np.zeros_like(sum_w), where=sum_w2c > 0)


def panel_overlap(frames, wcs, shape, frame_hw, step: int = 4) -> np.ndarray:
    """(H, W) bool: pixels of a mosaic (``wcs``, ``shape``) that frames of two panels or more cover (the frames'
    true WCS, ``FrameTruth``; sampled every ``step`` px)."""
    h, w = shape
    ys, xs = np.mgrid[0:h:step, 0:w:step]
    ra, dec = wcs.celestial.all_pix2world(xs, ys, 0)
    panels: dict = {}
    for fr in frames:
        fx, fy = fr.wcs.all_world2pix(ra, dec, 0)
        inside = (fx > 5) & (fy > 5) & (fx < frame_hw[1] - 6) & (fy < frame_hw[0] - 6)
        panels[fr.panel] = panels.get(fr.panel, False) | inside
    count = sum(p.astype(int) for p in panels.values())
    return np.kron(count >= 2, np.ones((step, step), bool))[:h, :w]


def _nearest_onto(values: np.ndarray, src_wcs, dst_wcs, shape) -> np.ndarray:
    """``values`` (on ``src_wcs``) looked up at the nearest source pixel of every pixel of ``dst_wcs`` (0 off)."""
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w]
    ra, dec = dst_wcs.celestial.all_pix2world(xs, ys, 0)
    sx, sy = (np.round(v).astype(int) for v in src_wcs.celestial.all_world2pix(ra, dec, 0))
    ok = (sx >= 0) & (sy >= 0) & (sx < values.shape[1]) & (sy < values.shape[0])
    out = np.zeros(shape)
    out[ok] = values[sy[ok], sx[ok]]
    return out


@dataclass
class OverlapGain:
    """SDS vs master tiles in the region: pixels and blocks measured (SDS's grid), frames per pixel (median) and
    noise of each, the measured noise ratio SDS / tiles and the expected ``sqrt(mean(1/N_sds) / mean(1/N_tiles))``."""

    pixels: int
    blocks: int
    frames_sds: float
    frames_tiles: float
    noise_sds: float
    noise_tiles: float
    measured: float
    expected: float


def _block_noise(hp: np.ndarray, region: np.ndarray, block: int) -> tuple[float, int]:
    h, w = (hp.shape[0] // block) * block, (hp.shape[1] // block) * block
    cells = np.where(region, hp, np.nan)[:h, :w].reshape(h // block, block, w // block, block)
    whole = np.isfinite(cells).all(axis=(1, 3))
    means = cells.transpose(0, 2, 1, 3)[whole].reshape(-1, block * block).mean(axis=1)
    if means.size < 20:
        return float("nan"), int(means.size)
    keep = np.ones(means.size, bool)
    for _ in range(5):  # the standard deviation after a 3-sigma clip: efficient on Gaussian noise, deaf to a star
        centre, sigma = float(np.median(means[keep])), float(np.std(means[keep]))
        keep = np.abs(means - centre) <= 3.0 * sigma
    return float(np.std(means[keep]) * block), int(means.size)


def overlap_gain(dataset, sds_dir: Path, tiles_dir: Path, *, min_gain: float = 1.3, block: int = 4) -> OverlapGain:
    """Measure both runs' noise in the region of the module docstring (``sds_dir``, ``tiles_dir``: the runs'
    output folders, with ``mosaic.fits`` and, for tiles, ``master_tiles/``)."""
    mosaics = {"sds": fits_io.read_fits_image(sds_dir / "mosaic.fits"),
               "tiles": fits_io.read_fits_image(tiles_dir / "mosaic.fits")}
    counts = {"sds": mosaics["sds"].extensions["WEIGHT"].astype(float),
              "tiles": tiles_effective_frames(tiles_dir / "master_tiles", GlobalGrid(
                  mosaics["tiles"].wcs, mosaics["tiles"].data.shape[:2]))}
    frame_hw = (dataset.spec.height, dataset.spec.width)
    out: dict = {}
    for mode, other in (("sds", "tiles"), ("tiles", "sds")):
        image = mosaics[mode]
        data = np.asarray(image.data, np.float64)
        shape = data.shape[:2]
        truth = np.asarray(dataset.scene.render(image.wcs, shape), np.float64)
        nebula = np.asarray(dataset.scene.render(image.wcs, shape, stars=False), np.float64)
        residual, meta = sky_truth.residual_after_gain_offset(data, truth, nebula)
        green = residual[..., 1]
        hp = green - sky_truth.smooth(green, meta["use"], 15)
        mine, theirs = counts[mode], _nearest_onto(counts[other], mosaics[other].wcs, image.wcs, shape)
        n_sds, n_tiles = (mine, theirs) if mode == "sds" else (theirs, mine)
        region = meta["use"] & meta["inner"] & (n_tiles > 0.5) & (n_sds >= min_gain * np.maximum(n_tiles, 0.5))
        region = ndi.binary_erosion(region & panel_overlap(dataset.frames, image.wcs, shape, frame_hw),
                                    iterations=2)
        noise, blocks = _block_noise(hp, region, block)
        out[mode] = (noise, blocks, int(region.sum()), n_sds[region], n_tiles[region])
    _, blocks, pixels, n_sds, n_tiles = out["sds"]
    expected = float(np.sqrt(np.mean(1.0 / n_sds) / np.mean(1.0 / n_tiles))) if pixels else float("nan")
    return OverlapGain(pixels, blocks, float(np.median(n_sds)) if pixels else float("nan"),
                       float(np.median(n_tiles)) if pixels else float("nan"), out["sds"][0], out["tiles"][0],
                       out["sds"][0] / out["tiles"][0], expected)
