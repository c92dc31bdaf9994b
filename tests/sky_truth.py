"""The mosaic-sky measurements against the generator's truth (issue 16 item 2), shared by the tests and
``bench/bench_mosaic_sky.py``.

* **sky left** per channel: the mosaic minus the truth (stars + nebula, no light pollution) after ONE gain and ONE
  offset per channel and no plane, smoothed over 64 px, 98th minus 2nd percentile. The gain is the stars' flux
  ratio: over the pixels within ``STAR_GROW_PX`` of a truth star brighter than 1000 ADU (saturated ones left out),
  the sum of the mosaic above its local background (a 31 px box mean of the pixels away from those stars) over the
  same sum of the truth.  A gradient cannot bend it, and it does not depend on how sharp the mosaic's stars are
  (the sum takes a star's whole profile; until wave 6 the gain was the least-squares slope of the 15 px high-pass
  of mosaic on truth, which reads ~4 % lower on a bilinear mosaic than on a Lanczos-3 one of the same flux: star
  cores widened by the resampling correlate less with the truth's).  The offset is the median residual. Stars
  brighter than 1000 ADU are masked from the smoothing (their profiles differ from the truth's: seeing,
  resampling, saturation); 16 px along the edge of the covered area are left out.
* **single-frame noise** per channel, three levels from the strictest to the loosest:

  - ``smoothed_noise_equivalent``: the 98-2 statistic of white noise of that sigma smoothed over 64 px,
    ``(z98 - z2) * sigma / 64 = 4.107 * sigma / 64``, as if a frame had 64 x 64 independent samples per channel
    in the box (a one-shot-colour frame has a quarter of that in R and B, half in G);
  - ``single_debayered_frame_level``: the same statistic on the noise of a single frame as the pipeline sees it:
    white Bayer noise of that sigma, debayered (``zemosaic.io.debayer``), smoothed over 64 px, 98-2;
  - the per-pixel noise sigma of a raw frame itself (``single_frame_noise``: neighbour differences within each
    colour plane of the Bayer mosaic, the same colour two pixels apart, so independent), median over the frames.
* **nebula flux kept** per channel: over a nebula region (truth above 20 % of its peak), the mosaic's flux above the
  zero level of the nebula-free sky (truth below 2 % of its peak), over the truth's flux.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from astropy.io import fits
from scipy import ndimage as ndi
from scipy.stats import norm

from zemosaic._stats import diff_noise_sigma

SMOOTH_PX = 64
EDGE_PX = 16
STAR_MASK_ADU = 1000.0
STAR_GROW_PX = 6  # the gain's star apertures: 6 px around the pixels where a star is above STAR_MASK_ADU
SATURATED_ADU = 20000.0
Z98_MINUS_Z2 = float(norm.ppf(0.98) - norm.ppf(0.02))   # 4.107: the 98-2 spread of a unit Gaussian


def smooth(x: np.ndarray, mask: np.ndarray, size: int) -> np.ndarray:
    """Box mean of ``x`` over ``size`` px counting only the pixels in ``mask``."""
    return ndi.uniform_filter(np.where(mask, x, 0.0), size) / np.maximum(ndi.uniform_filter(mask * 1.0, size), 1e-6)


def _masks(data: np.ndarray, truth: np.ndarray, nebula: np.ndarray):
    valid = np.isfinite(data).all(axis=2)
    inner = ndi.binary_erosion(valid, iterations=EDGE_PX)
    star_truth = (truth - nebula).max(axis=2)
    stars = ndi.binary_dilation(star_truth > STAR_MASK_ADU, iterations=6)
    saturated = ndi.binary_dilation(star_truth > SATURATED_ADU, iterations=10)
    return valid, inner, stars, saturated


def residual_after_gain_offset(data: np.ndarray, truth: np.ndarray, nebula: np.ndarray) -> tuple[np.ndarray, dict]:
    """``(H, W, C)`` mosaic / gain - truth - offset per channel (0 outside the covered area) and the masks."""
    valid, inner, stars, saturated = _masks(data, truth, nebula)
    use = valid & ~stars
    out = np.zeros(data.shape, np.float64)
    gains = []
    near_star = ndi.binary_dilation((truth - nebula).max(axis=2) > STAR_MASK_ADU, iterations=STAR_GROW_PX)
    apertures, background = near_star & inner & ~saturated, valid & ~near_star
    for c in range(data.shape[2]):
        v, t = np.where(valid, data[..., c], 0.0), truth[..., c]
        vh, th = v - smooth(v, background, 31), t - smooth(t, background, 31)
        gain = float(np.sum(vh[apertures]) / np.sum(th[apertures]))
        residual = v / gain - t
        residual -= np.median(residual[use & inner])
        out[..., c] = np.where(valid, residual, 0.0)
        gains.append(gain)
    return out, {"valid": valid, "inner": inner, "stars": stars, "use": use, "gain": np.array(gains)}


def sky_left(data: np.ndarray, truth: np.ndarray, nebula: np.ndarray, size: int = SMOOTH_PX) -> np.ndarray:
    """(C,) large-scale sky left: 98th - 2nd percentile of the ``size``-px smoothed residual (see the module)."""
    residual, m = residual_after_gain_offset(data, truth, nebula)
    out = []
    for c in range(data.shape[2]):
        large = smooth(residual[..., c], m["use"], size)[m["inner"]]
        out.append(float(np.percentile(large, 98) - np.percentile(large, 2)))
    return np.array(out)


def flux_kept(data: np.ndarray, truth: np.ndarray, nebula: np.ndarray, region_nebula: np.ndarray | None = None,
              *, frac: float = 0.2) -> np.ndarray:
    """(C,) nebula flux kept over ``region_nebula > frac * its peak`` (default: the whole nebula), the zero level
    taken where the whole nebula is below 2 % of its peak."""
    residual, m = residual_after_gain_offset(data, truth, nebula)
    region_nebula = nebula if region_nebula is None else region_nebula
    inner, stars = m["inner"], m["stars"]
    out = []
    for c in range(data.shape[2]):
        r, n, rn = residual[..., c], nebula[..., c], region_nebula[..., c]
        region = inner & ~stars & (rn > frac * rn[inner].max())
        far = inner & ~stars & (n < 0.02 * n[inner].max())
        zero = np.median(r[far]) if far.sum() > 1000 else 0.0
        out.append(float(np.sum(r[region] - zero + n[region]) / np.sum(n[region])))
    return np.array(out)


def single_frame_noise(frame_paths, *, bayer: str = "GRBG", max_frames: int = 8) -> np.ndarray:
    """(3,) R, G, B per-pixel noise sigma of raw frames (ADU), median over up to ``max_frames`` frames."""
    offsets = {ch: [(i // 2, i % 2) for i, letter in enumerate(bayer) if letter == ch] for ch in "RGB"}
    sigmas = []
    for path in list(frame_paths)[:max_frames]:
        raw = fits.getdata(Path(path)).astype(np.float64)
        row = []
        for ch in "RGB":
            s = [float(diff_noise_sigma((raw[dy::2, dx::2][:, 1:] - raw[dy::2, dx::2][:, :-1]).ravel()))
                 for dy, dx in offsets[ch]]
            row.append(float(np.mean(s)))
        sigmas.append(row)
    return np.median(np.array(sigmas), axis=0)


def smoothed_noise_equivalent(sigma: np.ndarray, size: int = SMOOTH_PX) -> np.ndarray:
    """The 98-2 spread of white noise of ``sigma`` smoothed over a ``size`` x ``size`` box."""
    return Z98_MINUS_Z2 * np.asarray(sigma, np.float64) / size


@lru_cache(maxsize=4)
def _debayered_noise_factor(bayer: str = "GRBG", size: int = SMOOTH_PX) -> tuple:
    """98-2 spread of unit-sigma Bayer noise, debayered and smoothed over ``size`` px, per channel (seeded)."""
    from zemosaic.io.debayer import debayer

    raw = np.random.default_rng(0).normal(0.0, 1.0, (1536, 1536)).astype(np.float32)
    rgb = debayer(raw, bayer)
    out = []
    for c in range(3):
        large = ndi.uniform_filter(rgb[..., c].astype(np.float64), size)[size:-size, size:-size]
        out.append(float(np.percentile(large, 98) - np.percentile(large, 2)))
    return tuple(out)


def single_debayered_frame_level(sigma: np.ndarray, *, bayer: str = "GRBG", size: int = SMOOTH_PX) -> np.ndarray:
    """(3,) the sky-left statistic (``size``-px smoothing, 98-2) applied to a single debayered frame's noise of
    per-pixel raw ``sigma`` (R, G, B)."""
    return np.asarray(sigma, np.float64) * np.array(_debayered_noise_factor(bayer, size))
