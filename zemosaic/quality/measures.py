"""Per-frame quality measures from the stars a frame's one detection pass found.

A frame's stars are found once (:func:`zemosaic.align.stars.detect_stars_with_sky`); this module reads their
shapes and fluxes on the residual of that pass and the sky mesh it used, and summarises the frame in one
:class:`FrameQuality`. Nothing here detects stars again.

Star shape: **Gaussian-weighted second moments** on a 17 x 17 stamp (window sigma ``_WINDOW_SIGMA`` px), corrected
for the window: for a Gaussian star of covariance ``C`` the window-weighted moments are ``M = (C^-1 + W^-1)^-1``,
so ``C = (M^-1 - W^-1)^-1`` (the adaptive-moments correction). The window keeps the noise of the wings out of the
moments. Pieces of a satellite or plane trail (elongation above 0.8: a wind trail of 12 px gives about 0.65) do not
vote. A frame's FWHM is the median over its bright stars of ``2.3548 sqrt((l1 + l2) / 2)`` (``l1 >= l2`` the
eigenvalues of ``C``); its elongation ``1 - sqrt(l2 / l1)`` and angle come from the median moment tensor of those
stars (normalised by its trace), so the random ellipticity that noise gives each star averages out while a trail
common to all stars stays. Flux: the window-weighted sum ``S`` of a Gaussian is ``F |W|^1/2 / |C + W|^1/2``, so
``F = S |C + W|^1/2 / |W|^1/2`` holds for Gaussian stars only (real ones have wings), so the flux is an aperture sum
of radius 2 x the frame's FWHM: the same fraction of any star profile, however wide, falls in it, so a defocused
frame's stars keep their flux relative to a sharp frame's.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from zemosaic.align.stars import StarDetection

__all__ = ["FrameQuality", "StarMeasures", "measure_stars", "measure_frame", "QUALITY_FIELDS"]

_STAMP_R = 12            # half size of the measuring stamp (25 x 25); aperture radius at most 11 px
_WINDOW_SIGMA = 3.0      # px, Gaussian window of the moments (covers FWHM up to ~10 px)
_MIN_SNR = 20.0          # stars below this flux SNR do not vote for FWHM / elongation
_SHAPE_STARS = 200       # brightest measurable stars used for the shape
_LINE_ELONGATION = 0.8   # a "star" this elongated is a piece of a line (satellite, plane): it does not vote
_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))


@dataclass(frozen=True, eq=False)
class StarMeasures:
    """Shape and flux of measured stars (arrays of one length, the stars kept, brightest first).

    ``xy`` positions (frame pixels), ``flux`` aperture flux (radius 2 FWHM), ``snr`` the signal-to-noise ratio of the
    star's Gaussian-window-weighted sum (sigma 3 px),
    ``cxx, cyy, cxy`` the window-corrected second moments (px^2); ``index`` each star's row in the detection's
    ``xy``; ``complete_above``: the flux above which the list is complete (its faint end: the frame's own
    detection limit, or where ``max_stars`` cut it); 0 when fewer than 10 stars were measured.
    """

    xy: np.ndarray
    flux: np.ndarray
    snr: np.ndarray
    cxx: np.ndarray
    cyy: np.ndarray
    cxy: np.ndarray
    index: np.ndarray
    complete_above: float = 0.0

    def line_like(self) -> np.ndarray:
        """True for the "stars" that are pieces of a line (satellite, plane): elongation above 0.8."""
        trace = self.cxx + self.cyy
        half = np.hypot((self.cxx - self.cyy) / 2.0, self.cxy)
        minor = np.clip(trace / 2.0 - half, 0.0, None)
        return 1.0 - np.sqrt(minor / np.maximum(trace / 2.0 + half, 1e-12)) > _LINE_ELONGATION

    def __len__(self) -> int:
        return len(self.flux)


@dataclass
class FrameQuality:
    """What one frame is worth, measured once (run report ``input_files[].quality``, ``frames.csv``).

    Lengths are full-resolution pixels, levels ADU of the luminance (mean of the channels). ``transparency``
    is the median flux ratio of the frame's stars matched to the group reference's (1 for the reference;
    None before the group is known); ``weight`` the signal-to-noise weight they imply,
    ``(transparency / noise)^2 / fwhm^2`` over the group's median (None until the group is measured).
    ``local_transparency`` is a coarse grid (rows x cols cells of ``cell_px`` frame pixels) of the same ratio
    per region, a cell holding None where too few reference stars fall; a missing star counts as 0.
    ``decision`` is ``"kept"``, ``"rejected"`` or ``"excluded"`` (the user's ``frame_exclude`` list); ``reason``
    says why; ``masked_fraction`` is the part of the frame left out as a partial defect.
    """

    n_stars: int
    fwhm_px: float | None
    elongation: float | None
    elongation_angle_deg: float | None
    sky_level: float
    sky_gradient: float
    sky_gradient_angle_deg: float
    noise: float
    binning: int = 1
    transparency: float | None = None
    matched_stars: int = 0
    weight: float | None = None
    decision: str = "kept"
    reason: str | None = None
    masked_fraction: float = 0.0
    cell_px: int = 0
    local_transparency: list = field(default_factory=list)

    def as_dict(self) -> dict:
        """JSON-ready copy (floats rounded for the report)."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, float):
                out[key] = round(value, 4)
        return out


QUALITY_FIELDS = ("n_stars", "fwhm_px", "elongation", "elongation_angle_deg", "sky_level", "sky_gradient",
                  "noise", "transparency", "matched_stars", "weight", "masked_fraction", "decision", "reason")
"""The columns of ``frames.csv`` and of ``zemosaic inspect`` taken from :class:`FrameQuality`."""


def measure_stars(detection: StarDetection, *, max_stars: int | None = None) -> StarMeasures:
    """Window-corrected moments and aperture fluxes of the detected stars whose stamp lies inside the frame.

    The moments are measured twice: with a window of ``_WINDOW_SIGMA`` px, then with a window matched to the
    median star size of that first pass (the adaptive-moments choice: least noise, wings down-weighted).
    Stars whose corrected moments are not positive definite (a noise peak, a blend) are dropped.
    """
    resid, r = detection.residual, _STAMP_R
    truncated = detection.capped or (max_stars is not None and len(detection.xy) > max_stars)
    xy = np.asarray(detection.xy, dtype=np.float64)[: max_stars or None]
    h, w = resid.shape
    ix, iy = np.rint(xy[:, 0]).astype(int), np.rint(xy[:, 1]).astype(int)
    inside = (ix >= r) & (iy >= r) & (ix < w - r) & (iy < h - r)
    index = np.flatnonzero(inside)
    xy, ix, iy = xy[inside], ix[inside], iy[inside]
    if len(xy) == 0:
        empty = np.empty(0)
        return StarMeasures(np.empty((0, 2)), empty, empty, empty, empty, empty, np.empty(0, dtype=int))
    off = np.arange(-r, r + 1)
    stamps = resid[iy[:, None, None] + off[None, :, None], ix[:, None, None] + off[None, None, :]].astype(np.float64)
    ring = np.concatenate([stamps[:, 0, :], stamps[:, -1, :], stamps[:, 1:-1, 0], stamps[:, 1:-1, -1]], axis=1)
    stamps -= np.median(ring, axis=1)[:, None, None]
    dx = off[None, None, :] - (xy[:, 0] - ix)[:, None, None]
    dy = off[None, :, None] - (xy[:, 1] - iy)[:, None, None]
    r2 = dx * dx + dy * dy
    win = np.exp(-0.5 * r2 / _WINDOW_SIGMA**2)  # the SNR of the window-weighted sum (near the optimal one)
    snr = (stamps * win).sum(axis=(1, 2)) / (max(detection.noise, 1e-12) * np.sqrt((win * win).sum(axis=(1, 2))))
    cxx, cyy, cxy, ok = _moments(stamps, dx, dy, r2, _WINDOW_SIGMA)
    bright = ok & (snr >= _MIN_SNR)
    sigma = float(np.median(np.sqrt((cxx[bright] + cyy[bright]) / 2.0))) if bright.sum() >= 3 else 1.5
    cxx, cyy, cxy, ok = _moments(stamps, dx, dy, r2, min(max(sigma, 1.0), _WINDOW_SIGMA))
    # aperture of 2 FWHM: a star profile of any width keeps the same fraction of its flux in it
    radius = min(max(2.0 * _FWHM_PER_SIGMA * sigma, 4.0), r - 1.0)
    flux = (stamps * (r2 <= radius * radius)).sum(axis=(1, 2))
    # the flux above which the frame's list is complete: its faint end (its own detection limit: a defocused frame
    # loses the faint stars a sharp one keeps), or where max_stars cut it
    complete = float(np.percentile(flux[ok], 10 if truncated else 5)) if ok.sum() >= 10 else 0.0
    return StarMeasures(xy[ok], flux[ok], snr[ok], cxx[ok], cyy[ok], cxy[ok], index[ok], complete)


def _moments(stamps, dx, dy, r2, window: float):
    """Second moments under a Gaussian window of sigma ``window``, corrected for the window."""
    wi = stamps * np.exp(-0.5 * r2 / window**2)
    s = wi.sum(axis=(1, 2))
    safe = np.where(s > 0, s, 1.0)
    mxx, myy = (wi * dx * dx).sum(axis=(1, 2)) / safe, (wi * dy * dy).sum(axis=(1, 2)) / safe
    mxy = (wi * dx * dy).sum(axis=(1, 2)) / safe
    cxx, cyy, cxy, ok = _unwindowed(mxx, myy, mxy, window)
    return cxx, cyy, cxy, ok & (s > 0)


def _unwindowed(mxx, myy, mxy, window: float):
    """``C = (M^-1 - W^-1)^-1`` per star with ``W = window^2 I``; ``ok`` where C is positive definite."""
    det_m = mxx * myy - mxy * mxy
    good = det_m > 1e-6
    safe = np.where(good, det_m, 1.0)
    ixx, iyy, ixy = myy / safe - 1.0 / window**2, mxx / safe - 1.0 / window**2, -mxy / safe
    det_i = ixx * iyy - ixy * ixy
    good &= (det_i > 1e-9) & (ixx > 0) & (iyy > 0)
    safe_i = np.where(good, det_i, 1.0)
    return iyy / safe_i, ixx / safe_i, -ixy / safe_i, good


def measure_frame(detection: StarDetection, stars: StarMeasures | None = None, *, binning: int = 1) -> FrameQuality:
    """A frame's :class:`FrameQuality` (everything but the group-relative fields) from its detection pass.

    ``binning``: the plane was binned ``binning x binning`` (sums): lengths are scaled back to full-resolution
    pixels, levels to one full-resolution pixel (sky / b^2, noise / b for independent pixel noise).
    """
    stars = measure_stars(detection) if stars is None else stars
    b = int(binning)
    fwhm, elong, angle = _frame_shape(stars)
    level, grad, grad_angle = _sky_plane(detection.sky)
    return FrameQuality(
        n_stars=int(len(detection.xy)), fwhm_px=None if fwhm is None else fwhm * b, elongation=elong,
        elongation_angle_deg=angle, sky_level=level / (b * b), sky_gradient=grad / (b * b),
        sky_gradient_angle_deg=grad_angle, noise=float(detection.noise) / b, binning=b)


def _frame_shape(stars: StarMeasures) -> tuple[float | None, float | None, float | None]:
    """Median FWHM of the bright stars, elongation and major-axis angle of their median normalised tensor."""
    bright = np.flatnonzero((stars.snr >= _MIN_SNR) & ~stars.line_like())[:_SHAPE_STARS]
    if len(bright) < 3:
        return None, None, None
    cxx, cyy, cxy = stars.cxx[bright], stars.cyy[bright], stars.cxy[bright]
    trace = cxx + cyy
    fwhm = float(np.median(_FWHM_PER_SIGMA * np.sqrt(trace / 2.0)))
    nxx, nyy, nxy = (float(np.median(v / trace)) for v in (cxx, cyy, cxy))
    half_diff = math.hypot((nxx - nyy) / 2.0, nxy)
    mean = (nxx + nyy) / 2.0
    l1, l2 = mean + half_diff, max(mean - half_diff, 0.0)
    elong = 1.0 - math.sqrt(l2 / l1) if l1 > 0 else 0.0
    angle = math.degrees(0.5 * math.atan2(2.0 * nxy, nxx - nyy)) % 180.0
    return fwhm, elong, angle


def _sky_plane(sky: np.ndarray) -> tuple[float, float, float]:
    """Median sky level, and the plane fitted to the sky: its change across the frame (ADU, along its steepest
    direction, corner to corner) and the direction of increase (degrees from +x towards +y)."""
    sub = np.asarray(sky[::16, ::16], dtype=np.float64)
    level = float(np.median(sky[::4, ::4]))
    h, w = sky.shape
    yy, xx = np.mgrid[0:sub.shape[0], 0:sub.shape[1]]
    a = np.column_stack([np.ones(sub.size), (xx.ravel() * 16.0), (yy.ravel() * 16.0)])
    coef, *_ = np.linalg.lstsq(a, sub.ravel(), rcond=None)
    gx, gy = float(coef[1]), float(coef[2])
    across = abs(gx) * (w - 1) + abs(gy) * (h - 1)
    return level, across, math.degrees(math.atan2(gy, gx)) % 360.0
