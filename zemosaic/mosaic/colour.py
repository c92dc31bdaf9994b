"""Colour calibration of the mosaic on its stars (Phase 5.6, ``colour_calibration=stars``).

A sensor records stars in its own colour balance (the Seestar S50's is green: green strongest behind its IR-cut
filter).  Stars are, on average, close to white (a solar-type star is white by definition of a white balance), so
the mosaic's stars give the correction:

1. Stars: local maxima of the luminance well above the noise (:func:`measure_star_colours`), kept only when
   *isolated* (no other peak within ``isolation_px``), *unsaturated* (their peak in every channel below
   ``saturation_frac`` of that channel's brightest value, the level where clipped stars pile up), fully covered, and
   measured in all three channels (aperture sum minus the annulus median, each channel above ``min_snr``).
2. White reference: their average colour (the median of ``log(G / R)`` and ``log(G / B)`` over the stars): the
   factors ``k_R``, ``k_B`` (``k_G = 1``) that make the median star white.  With a colour catalogue (positions and
   B-V, :func:`read_colour_catalogue`), the reference is the *solar-type* stars instead (B-V within
   ``SOLAR_BV +- 0.1``, matched within 1.5 px), a white balance that does not depend on the field's star mix.
   A factor within its own uncertainty (three standard errors of the median) or within 2 % of 1 is left at 1: a
   correction smaller than its noise is noise.
3. The sky's neutral point is kept: ``x' = s_c + k_c (x - s_c)`` with ``s_c`` the sky level of channel ``c`` (the
   median of the darkest cells), so a sky made neutral in Phase 5.5 stays neutral.

:func:`calibrate_star_colours` measures, :meth:`ColourCalibration.apply` corrects in place.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from numba import njit
from scipy import ndimage

from zemosaic._numba_pool import run_blocks
from zemosaic._sample_blocks import block_median_grid

__all__ = ["SOLAR_BV", "ColourCatalogue", "ColourCalibration", "StarColours", "measure_star_colours",
           "calibrate_star_colours", "read_colour_catalogue"]

log = logging.getLogger(__name__)

SOLAR_BV = 0.65
"""B-V of the Sun: the colour a solar-type white reference makes white."""
_SOLAR_HALF_WIDTH = 0.1
_MATCH_PX = 1.5
_MIN_STARS = 10
_MIN_CHANGE = float(np.log(1.02))
_APERTURE_PX, _ANNULUS_PX = 5.0, (8.0, 12.0)


@dataclass(frozen=True)
class ColourCatalogue:
    """Stars with a colour: ``ra``, ``dec`` (degrees) and ``bv`` (B-V), equal-length float arrays."""

    ra: np.ndarray
    dec: np.ndarray
    bv: np.ndarray
    source: str = ""


def read_colour_catalogue(path) -> ColourCatalogue:
    """Read a table (CSV, ECSV, FITS... anything ``astropy.table.Table.read`` takes) with columns ``ra``, ``dec``
    (degrees) and ``bv`` (B-V), or ``BT`` and ``VT`` (Tycho-2 magnitudes: B-V = 0.85 (BT - VT)).

    Raises
    ------
    ValueError
        The file cannot be read or lacks the columns (the message names the file).
    """
    from astropy.table import Table

    try:
        table = Table.read(path)
    except Exception as exc:  # astropy raises many kinds for an unreadable table: one error naming the file
        raise ValueError(f"{path}: cannot read a colour catalogue ({exc})") from exc
    names = {n.lower(): n for n in table.colnames}
    if "ra" not in names or "dec" not in names:
        raise ValueError(f"{path}: a colour catalogue needs columns ra and dec (degrees), has {table.colnames}")
    if "bv" in names:
        bv = np.asarray(table[names["bv"]], dtype=np.float64)
    elif "bt" in names and "vt" in names:
        bv = 0.85 * (np.asarray(table[names["bt"]], np.float64) - np.asarray(table[names["vt"]], np.float64))
    else:
        raise ValueError(f"{path}: a colour catalogue needs a bv column (B-V) or BT and VT, has {table.colnames}")
    return ColourCatalogue(np.asarray(table[names["ra"]], np.float64), np.asarray(table[names["dec"]], np.float64),
                           bv, source=str(path))


@dataclass(frozen=True)
class StarColours:
    """Stars measured in every channel: positions ``y``, ``x`` (mosaic pixels) and ``flux`` (``N x 3``)."""

    y: np.ndarray
    x: np.ndarray
    flux: np.ndarray
    n_candidates: int = 0


@dataclass(frozen=True)
class ColourCalibration:
    """The correction: ``x' = sky + factors * (x - sky)`` per channel.

    Attributes
    ----------
    factors : tuple of float
        ``k_R, k_G, k_B`` (``k_G = 1``; 1 for a channel whose correction was not significant).
    sky : tuple of float
        The neutral point kept, per channel (ADU).
    n_stars : int
        Stars used.
    measured : tuple of float
        ``exp(median log(G/X))`` per channel before the significance test (1 for G).
    stderr : tuple of float
        Standard error of each median ``log`` ratio.
    reason : str or None
        Why nothing was corrected (too few stars, no colour), None when the factors were measured.
    """

    factors: tuple[float, float, float]
    sky: tuple[float, float, float]
    n_stars: int
    measured: tuple[float, float, float] = (1.0, 1.0, 1.0)
    stderr: tuple[float, float, float] = (0.0, 0.0, 0.0)
    reason: str | None = None
    reference: str = "average star colour"
    extra: dict = field(default_factory=dict)

    @property
    def applied(self) -> bool:
        return any(f != 1.0 for f in self.factors)

    def apply(self, data: np.ndarray, covered: np.ndarray) -> None:
        """Correct ``data`` (``H x W x 3``) in place on the ``covered`` pixels, row block by row block."""
        if not self.applied:
            return
        k = np.asarray(self.factors, dtype=np.float32)
        s = np.asarray(self.sky, dtype=np.float32)
        for y0 in range(0, data.shape[0], 512):
            block = data[y0:y0 + 512]
            inside = covered[y0:y0 + 512]
            block[inside] = s + k * (block[inside] - s)

    def header_cards(self) -> dict:
        """``COLCAL``, ``COLFAC1..3``, ``COLSKY1..3``, ``COLNSTAR`` for the mosaic's header."""
        cards: dict[str, tuple] = {
            "COLCAL": ("stars" if self.applied else "none", "colour calibration on stars (Phase 5.6)"),
            "COLNSTAR": (int(self.n_stars), "stars measured for the white reference")}
        for c in range(3):
            cards[f"COLFAC{c + 1}"] = (round(float(self.factors[c]), 5), f"channel {c + 1} factor about COLSKY")
            cards[f"COLSKY{c + 1}"] = (round(float(self.sky[c]), 4), f"neutral point of channel {c + 1}, ADU")
        return cards

    def as_dict(self) -> dict:
        return {"applied": self.applied, "reference": self.reference, "n_stars": int(self.n_stars),
                "factors": [round(float(v), 5) for v in self.factors],
                "measured": [round(float(v), 5) for v in self.measured],
                "stderr_log": [round(float(v), 5) for v in self.stderr],
                "neutral_point": [round(float(v), 4) for v in self.sky], "reason": self.reason, **self.extra}


def measure_star_colours(data: np.ndarray, covered: np.ndarray, *, detect_sigma: float = 10.0,
                         isolation_px: float = 12.0, saturation_frac: float = 0.7, min_snr: float = 10.0,
                         max_stars: int = 3000) -> StarColours:
    """Find the isolated, unsaturated stars of an ``H x W x 3`` mosaic and measure them in each channel (see the
    module docstring).  ``covered``: ``H x W`` bool."""
    lum, noise = _luminance_residual(data, covered)
    smooth = ndimage.gaussian_filter(lum, 1.0)
    peaks = (smooth == ndimage.maximum_filter(smooth, size=7)) & (smooth > 0.5 * detect_sigma * noise)
    ys, xs = np.nonzero(peaks)
    strength = smooth[ys, xs]
    order = np.argsort(-strength)[:4 * max_stars]
    ys, xs, strength = ys[order], xs[order], strength[order]
    isolated = _isolated(ys, xs, isolation_px)
    bright = strength > detect_sigma * noise
    keep = isolated & bright
    ys, xs = ys[keep][:max_stars], xs[keep][:max_stars]
    n_candidates = int(ys.size)
    flux, ok = _aperture_fluxes(data, covered, ys, xs, saturation_frac, min_snr)
    return StarColours(y=ys[ok], x=xs[ok], flux=flux[ok], n_candidates=n_candidates)


def calibrate_star_colours(data: np.ndarray, covered: np.ndarray, *, wcs=None,
                           catalogue: ColourCatalogue | None = None, **kwargs) -> ColourCalibration:
    """Measure the colour correction of an ``H x W x 3`` mosaic on its stars (nothing is changed: call
    :meth:`ColourCalibration.apply`).

    Parameters
    ----------
    data, covered : numpy.ndarray
        The mosaic and its ``H x W`` coverage.
    wcs : astropy.wcs.WCS, optional
        The mosaic's celestial WCS, to match ``catalogue``.
    catalogue : ColourCatalogue, optional
        With ``wcs``: the white reference is the measured stars matched to solar-type catalogue stars (when at
        least 10 match; else the average star, the reason said in ``extra['solar_type']``).
    **kwargs
        Passed to :func:`measure_star_colours`.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="zemosaic-colour") as pool:  # beside the stars
        sky_job = pool.submit(_sky_levels, data, covered)
        stars = measure_star_colours(data, covered, **kwargs)
        sky = sky_job.result()
    reference = "average star colour"
    extra: dict = {"n_candidates": stars.n_candidates}
    flux = stars.flux
    if catalogue is not None and wcs is not None:
        solar = _solar_type(stars, wcs, catalogue)
        extra["solar_type"] = f"{int(solar.sum())} measured stars matched to solar-type catalogue stars"
        if solar.sum() >= _MIN_STARS:
            flux, reference = flux[solar], f"solar-type stars (B-V {SOLAR_BV} +- {_SOLAR_HALF_WIDTH})"
    n = int(flux.shape[0])
    if n < _MIN_STARS:
        return ColourCalibration((1.0, 1.0, 1.0), sky, n, reason=f"{n} usable stars (< {_MIN_STARS})",
                                 reference=reference, extra=extra)
    logs = np.log(flux[:, 1:2] / flux)  # log(G / X), N x 3
    median = np.median(logs, axis=0)
    mad = np.median(np.abs(logs - median), axis=0) * 1.4826
    stderr = 1.2533 * mad / np.sqrt(n)
    significant = (np.abs(median) > 3.0 * stderr) & (np.abs(median) > _MIN_CHANGE)
    factors = _three(np.where(significant, np.exp(median), 1.0))
    reason = None if any(significant) else "the reference's colour is already white (within noise or 2 %)"
    return ColourCalibration(factors=factors, sky=sky, n_stars=n, measured=_three(np.exp(median)),
                             stderr=_three(stderr), reason=reason, reference=reference, extra=extra)


# ------------------------------------------------------------------------------------------------------------------
# private helpers

def _solar_type(stars: StarColours, wcs, catalogue: ColourCatalogue) -> np.ndarray:
    """Which measured stars lie within ``_MATCH_PX`` of a catalogue star of solar B-V."""
    from scipy.spatial import cKDTree

    keep = np.abs(catalogue.bv - SOLAR_BV) <= _SOLAR_HALF_WIDTH
    if not keep.any() or stars.y.size == 0:
        return np.zeros(stars.y.size, dtype=bool)
    x, y = wcs.world_to_pixel_values(catalogue.ra[keep], catalogue.dec[keep])
    tree = cKDTree(np.column_stack([x, y]))
    distance, _ = tree.query(np.column_stack([stars.x, stars.y]).astype(np.float64), k=1)
    return distance <= _MATCH_PX


def _luminance_residual(data: np.ndarray, covered: np.ndarray, cell: int = 32) -> tuple[np.ndarray, float]:
    """Luminance minus its smooth background (median of ``cell``-pixel blocks), 0 outside ``covered``, and the
    residual's noise (MAD)."""
    h, w = covered.shape
    good, lum = np.empty((h, w), bool), np.empty((h, w), np.float32)
    run_blocks(_nb_luminance_rows, h, 1, np.asarray(data, np.float32), np.asarray(covered, bool), good, lum)
    hb, wb = -(-h // cell), -(-w // cell)
    padded = np.full((hb * cell, wb * cell), np.nan, dtype=np.float32)
    padded[:h, :w] = lum
    blocks = block_median_grid(padded, cell)  # NaN-ignoring, np.nanmedian's values
    blocks = np.where(np.isfinite(blocks), blocks, np.nanmedian(blocks) if np.isfinite(blocks).any() else 0.0)
    background = ndimage.zoom(blocks, (hb * cell / hb, wb * cell / wb), order=1)[:h, :w]
    residual = np.where(good, lum - background, 0.0).astype(np.float32)
    values = residual[good]
    noise = float(1.4826 * np.median(np.abs(values - np.median(values)))) if values.size else 1.0
    return residual, max(noise, 1e-6)


@njit(nogil=True, cache=True)
def _nb_luminance_rows(r0, r1, data, covered, good, lum):  # pragma: no cover - compiled
    """Rows ``r0:r1``: ``good`` = covered and finite in every channel; ``lum`` = the channels' float32 sum in
    channel order where good, NaN elsewhere (one pass instead of numpy's five)."""
    for y in range(r0, r1):
        for x in range(data.shape[1]):
            ok = covered[y, x]
            total = np.float32(0.0)
            for c in range(data.shape[2]):
                v = data[y, x, c]
                ok = ok and np.isfinite(v)
                total += v
            good[y, x] = ok
            lum[y, x] = total if ok else np.float32(np.nan)


def _isolated(ys: np.ndarray, xs: np.ndarray, radius: float) -> np.ndarray:
    """True for the peaks with no other peak within ``radius`` pixels."""
    from scipy.spatial import cKDTree

    if ys.size < 2:
        return np.ones(ys.size, dtype=bool)
    tree = cKDTree(np.column_stack([ys, xs]).astype(np.float64))
    counts = np.array([len(n) for n in tree.query_ball_point(tree.data, r=radius)])
    return counts == 1


def _offsets(r_low: float, r_high: float) -> tuple[np.ndarray, np.ndarray]:
    r = int(np.ceil(r_high))
    dy, dx = np.mgrid[-r:r + 1, -r:r + 1]
    dist = np.hypot(dy, dx)
    ring = (dist >= r_low) & (dist <= r_high)
    return dy[ring], dx[ring]


def _aperture_fluxes(data: np.ndarray, covered: np.ndarray, ys: np.ndarray, xs: np.ndarray,
                     saturation_frac: float, min_snr: float) -> tuple[np.ndarray, np.ndarray]:
    """``N x 3`` aperture fluxes minus the annulus median, and which stars pass every test."""
    h, w = covered.shape
    ay, ax = _offsets(0.0, _APERTURE_PX)
    by, bx = _offsets(*_ANNULUS_PX)
    margin = int(np.ceil(_ANNULUS_PX[1]))
    inside = (ys >= margin) & (ys < h - margin) & (xs >= margin) & (xs < w - margin)
    ys, xs = ys[inside], xs[inside]
    flux = np.zeros((inside.size, 3))
    ok = np.zeros(inside.size, dtype=bool)
    if ys.size == 0:
        return flux, ok
    ap = data[ys[:, None] + ay, xs[:, None] + ax].astype(np.float64)  # N x n_ap x 3
    ann = data[ys[:, None] + by, xs[:, None] + bx].astype(np.float64)
    full = covered[ys[:, None] + by, xs[:, None] + bx].all(axis=1) & np.isfinite(ap).all(axis=(1, 2)) \
        & np.isfinite(ann).all(axis=(1, 2))
    sky = np.median(ann, axis=1)  # N x 3
    noise = 1.4826 * np.median(np.abs(ann - sky[:, None, :]), axis=1)
    measured = ap.sum(axis=1) - ap.shape[1] * sky
    peak = ap.max(axis=1)
    brightest = np.fmax.reduce(data.reshape(h * w, -1), axis=0, where=covered.reshape(h * w, 1), initial=-np.inf)
    ceiling = saturation_frac * brightest  # -inf where nothing is covered: no star passes, as with NaN
    snr_ok = np.all(measured > min_snr * np.maximum(noise, 1e-6) * np.sqrt(ap.shape[1]), axis=1)
    good = full & snr_ok & np.all(peak < ceiling, axis=1) & np.all(measured > 0, axis=1)
    flux[inside] = measured
    ok[inside] = good
    return flux, ok


def _sky_levels(data: np.ndarray, covered: np.ndarray, cell: int = 32, share: float = 0.2
                ) -> tuple[float, float, float]:
    """Per channel: the median of the channel's block medians over the darkest ``share`` of the cells (by
    luminance): the sky where neither stars nor nebula are."""
    h, w = covered.shape
    hb, wb = h // cell, w // cell
    if hb == 0 or wb == 0:
        values = data[covered]
        return _three(np.nanmedian(values, axis=0)) if values.size else (0.0, 0.0, 0.0)
    crop = data[:hb * cell, :wb * cell].reshape(hb, cell, wb, cell, 3)
    full = covered[:hb * cell, :wb * cell].reshape(hb, cell, wb, cell).all(axis=(1, 3))
    cells = np.median(crop, axis=(1, 3))[full]  # n x 3
    if cells.shape[0] == 0:
        values = data[covered]
        return _three(np.nanmedian(values, axis=0)) if values.size else (0.0, 0.0, 0.0)
    lum = cells.sum(axis=1)
    dark = lum <= np.quantile(lum, share)
    return _three(np.median(cells[dark], axis=0))


def _three(values) -> tuple[float, float, float]:
    a, b, c = (float(v) for v in values)
    return a, b, c
