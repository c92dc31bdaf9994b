"""The sky a synthetic session observes, fixed on the celestial sphere: a star catalogue (synthetic, or the plate
solver's index stars) and a smooth coloured nebula on the session's global grid, the light-pollution background of
one frame (:class:`SkyBackground`, its formula in :mod:`zemosaic.synthetic.generator`), and star rendering (Moffat
stamps).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from astropy.table import Table
from astropy.wcs import WCS

from zemosaic.solve import index_catalogue
from zemosaic.synthetic.spec import SynthSpec, SynthSpecError

__all__ = ["SkyBackground", "SkyScene", "build_scene", "render_star_field", "bv_to_rgb_ratio"]

logger = logging.getLogger("zemosaic.synthetic.generator")


_LAMBDA_UM = (0.60, 0.53, 0.46)  # effective R, G, B wavelengths used for star colours


_HC_OVER_K_UM_K = 14387.77


@dataclass(frozen=True)
class SkyBackground:
    """The light-pollution background added to one frame (see the module docstring for the formula).

    ``level_adu * colour`` is the per-channel level at the frame centre (and the frame mean); ``gradient`` the
    fractional change per channel from the centre to ``scale_px`` along ``angle_deg`` (degrees, frame pixel axes,
    measured from +x towards +y, pointing to where the sky is brighter).
    """

    level_adu: float
    colour: tuple[float, float, float]
    gradient: tuple[float, float, float]
    angle_deg: float
    centre_xy: tuple[float, float]
    scale_px: float

    @property
    def channel_levels(self) -> np.ndarray:
        """Per-channel level at the centre, float64 (3,)."""
        return self.level_adu * np.asarray(self.colour, dtype=np.float64)

    def render(self, shape: tuple[int, int]) -> np.ndarray:
        """Evaluate the background on a ``shape`` (H, W) frame grid; float32 H x W x 3."""
        h, w = shape
        a = math.radians(self.angle_deg)
        xs = (np.arange(w, dtype=np.float64) - self.centre_xy[0]) * math.cos(a) / self.scale_px
        ys = (np.arange(h, dtype=np.float64) - self.centre_xy[1]) * math.sin(a) / self.scale_px
        ramp = (ys[:, None] + xs[None, :]).astype(np.float32)
        out = np.empty((h, w, 3), dtype=np.float32)
        for c in range(3):
            level = self.channel_levels[c]
            out[..., c] = np.float32(level) + np.float32(level * self.gradient[c]) * ramp
        return out

    def to_dict(self) -> dict:
        """JSON-ready parameters."""
        return {"level_adu": self.level_adu, "colour": list(self.colour), "gradient": list(self.gradient),
                "angle_deg": self.angle_deg, "centre_xy": list(self.centre_xy), "scale_px": self.scale_px,
                "model": "level*colour_c*(1+gradient_c*((x-cx)*cos(a)+(y-cy)*sin(a))/scale)"}


@dataclass(frozen=True, eq=False)
class SkyScene:
    """The sky fixed on the celestial sphere: star catalogue + nebula, renderable through any celestial WCS.

    ``catalogue`` columns: ``ra``, ``dec`` (deg), ``flux_r``, ``flux_g``, ``flux_b`` (ADU totals per frame),
    ``bv`` (colour index), ``peak_adu`` (brightest channel's peak at ``fwhm_px``). ``global_wcs`` / ``global_shape``
    is the north-up TAN grid at the frame pixel scale that covers every frame of the session.
    """

    global_wcs: WCS
    global_shape: tuple[int, int]
    catalogue: Table
    fwhm_px: float
    beta: float
    nebula_blobs: np.ndarray  # (K, 9): gx, gy, sigma_a, sigma_b, angle_rad, amplitude, r, g, b (global pixels)
    nebula_waves: np.ndarray  # (J, 4): kx, ky, phase, weight; modulation 1 + 0.4 * sum(weight * sin)

    def render(self, wcs: WCS, shape: tuple[int, int], *, stars: bool = True, nebula: bool = True,
               fwhm: float | None = None) -> np.ndarray:
        """Noiseless sky (no light pollution) seen through ``wcs`` on a ``shape`` (H, W) grid.

        Parameters
        ----------
        wcs : astropy.wcs.WCS
            Celestial WCS of the target grid (any projection; nebula mapping is exact for TAN grids).
        shape : tuple of int
            ``(H, W)`` of the target grid.
        stars, nebula : bool
            Which components to include.
        fwhm : float, optional
            Star FWHM in target pixels; default the scene's ``fwhm_px``.

        Returns
        -------
        numpy.ndarray
            float32 ``H x W x 3`` in ADU per frame (linear R, G, B).
        """
        h, w = int(shape[0]), int(shape[1])
        out = np.zeros((h, w, 3), dtype=np.float32)
        if stars and len(self.catalogue):
            out += self._render_stars(wcs, (h, w), self.fwhm_px if fwhm is None else fwhm)
        if nebula and len(self.nebula_blobs):
            gx, gy = _pixel_map(wcs, self.global_wcs, (h, w))
            out += _nebula_rgb(gx, gy, self.nebula_blobs, self.nebula_waves)
        return out

    def _render_stars(self, wcs: WCS, shape: tuple[int, int], fwhm: float) -> np.ndarray:
        cat = self.catalogue
        x, y = wcs.all_world2pix(np.asarray(cat["ra"]), np.asarray(cat["dec"]), 0)
        margin = 64
        keep = (np.isfinite(x) & np.isfinite(y) & (x > -margin) & (x < shape[1] + margin)
                & (y > -margin) & (y < shape[0] + margin))
        fluxes = np.column_stack([cat["flux_r"], cat["flux_g"], cat["flux_b"]])[keep]
        total = fluxes.max(axis=1)
        return render_star_field(shape, x[keep], y[keep], total, fwhm=fwhm, beta=self.beta,
                                 colors=fluxes / total[:, None])


def render_star_field(shape: tuple[int, int], x, y, flux, *, fwhm: float = 3.0, beta: float = 2.5,
                      colors=None) -> np.ndarray:
    """Render Moffat stars at sub-pixel positions, each on its own small stamp (no per-pixel Python loop).

    Parameters
    ----------
    shape : tuple of int
        ``(H, W)`` of the image.
    x, y : array_like
        Star centres in 0-based pixel coordinates (``x`` = column); stars partly or fully outside are clipped.
    flux : array_like or float
        Total flux of each star (before ``colors``).
    fwhm, beta : float
        Moffat FWHM (pixels) and beta.
    colors : array_like, optional
        ``(N, 3)`` per-channel multipliers of ``flux``; when given the result is RGB.

    Returns
    -------
    numpy.ndarray
        float32 ``H x W`` (or ``H x W x 3``). The profile is point-sampled at pixel centres and normalised to sum
        to exactly ``flux`` over its stamp; the stamp radius grows with the flux until the wing drops below
        0.01 ADU (at least 99 % of the infinite profile, at most 64 px), so the image holds each star's full flux
        unless part of its stamp falls outside the image.
    """
    h, w = int(shape[0]), int(shape[1])
    x = np.atleast_1d(np.asarray(x, dtype=np.float64)).ravel()
    y = np.atleast_1d(np.asarray(y, dtype=np.float64)).ravel()
    flux = np.broadcast_to(np.asarray(flux, dtype=np.float64), x.shape)
    chan = np.ones((x.size, 1)) if colors is None else np.asarray(colors, dtype=np.float64).reshape(x.size, 3)
    alpha = fwhm / (2.0 * math.sqrt(2.0 ** (1.0 / beta) - 1.0))
    acc = np.zeros((chan.shape[1], h * w), dtype=np.float64)
    radii = _stamp_radii(flux * chan.max(axis=1), alpha, beta)
    for radius in np.unique(radii):
        members = np.flatnonzero(radii == radius)
        batch = max(1, int(2_000_000 // (2 * radius + 1) ** 2))
        for start in range(0, members.size, batch):
            sel = members[start:start + batch]
            idx, prof = _stamps(x[sel], y[sel], int(radius), alpha, beta, (h, w))
            idx = idx.ravel()
            for c in range(chan.shape[1]):
                weights = (prof * (flux[sel] * chan[sel, c])[:, None].astype(np.float32)).ravel()
                acc[c] += np.bincount(idx, weights=weights, minlength=h * w + 1)[:h * w]
    out = acc.reshape(chan.shape[1], h, w).astype(np.float32)
    return out[0] if colors is None else np.moveaxis(out, 0, -1).copy()


def build_scene(spec: SynthSpec, global_wcs: WCS, global_shape: tuple[int, int], seed: int) -> SkyScene:
    """The star catalogue and the nebula of ``spec`` on the session's global grid (``seed`` fixes both)."""
    catalogue = _make_catalogue(spec, global_wcs, global_shape, np.random.default_rng([seed, 2]))
    blobs, waves = _make_nebula(spec, global_shape, np.random.default_rng([seed, 3]))
    return SkyScene(global_wcs=global_wcs, global_shape=global_shape, catalogue=catalogue,
                    fwhm_px=spec.fwhm_px, beta=spec.moffat_beta, nebula_blobs=blobs, nebula_waves=waves)


def _make_catalogue(spec: SynthSpec, wcs: WCS, shape: tuple[int, int], rng: np.random.Generator,
                    margin: float = 24.0, f_min: float = 150.0, f_max: float = 3.0e6,
                    slope: float = 0.8) -> Table:
    """Uniform positions; fluxes with N(>F) ~ F^-slope (a few bright stars); B-V colours -> R/G/B ratios.

    With ``spec.real_stars`` the bright end is the index's stars (true positions, fluxes from MAG_VT) and the
    synthetic stars are only those of the law fainter than the faintest index star (same density there); the table
    then also has ``mag`` (NaN for synthetic stars) and ``index_star`` columns.
    """
    h, w = shape
    area = (h + 2 * margin) * (w + 2 * margin) * (spec.pixel_scale_arcsec / 3600.0) ** 2
    n = spec.n_stars if spec.n_stars is not None else int(round(spec.star_density_per_deg2 * area))
    real = _real_stars(spec, wcs, shape, margin) if spec.real_stars is not None else None
    u_low = 0.0
    if real is not None and len(real[0]):
        f_limit = float(np.min(real[2]))
        u_low = min(1.0, (f_limit / f_min) ** -slope) if f_limit > f_min else 1.0  # P(F > f_limit)
        n = int(round(n * (1.0 - u_low)))
    x = rng.uniform(-margin, w - 1 + margin, n)
    y = rng.uniform(-margin, h - 1 + margin, n)
    # survival fraction uniform in (u_low, 1]: fluxes f_min..f_limit (u_low = 0 is the whole law)
    flux = np.minimum(f_min * (1.0 - rng.random(n) * (1.0 - u_low)) ** (-1.0 / slope), f_max)
    bv = np.clip(rng.normal(0.65, 0.35, n), -0.3, 2.0)
    ra, dec = wcs.wcs_pix2world(x, y, 0)
    columns = {}
    if real is not None:
        n_real = len(real[0])
        ra, dec = np.concatenate([real[0], ra]), np.concatenate([real[1], dec])
        flux = np.concatenate([real[2], flux])
        bv = np.concatenate([np.clip(rng.normal(0.65, 0.35, n_real), -0.3, 2.0), bv])
        columns = {"mag": np.concatenate([real[3], np.full(n, np.nan)]),
                   "index_star": np.arange(n_real + n) < n_real}
    ratio = bv_to_rgb_ratio(bv)
    order = np.argsort(-flux, kind="stable")
    ra, dec = ra[order], dec[order]
    fluxes = flux[order, None] * ratio[order]
    alpha = spec.fwhm_px / (2.0 * math.sqrt(2.0 ** (1.0 / spec.moffat_beta) - 1.0))
    peak = fluxes.max(axis=1) * (spec.moffat_beta - 1.0) / (math.pi * alpha ** 2)
    table = Table({"ra": ra, "dec": dec, "flux_r": fluxes[:, 0], "flux_g": fluxes[:, 1],
                   "flux_b": fluxes[:, 2], "bv": bv[order], "peak_adu": peak})
    for name, values in columns.items():
        table[name] = values[order]
    return table


def _real_stars(spec: SynthSpec, wcs: WCS, shape: tuple[int, int],
                margin: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Index stars on the global grid (plus ``margin``): ra, dec, flux (ADU per frame), mag.

    Raises
    ------
    SynthSpecError
        No index file at ``spec.real_stars``.
    """
    folders = None if spec.real_stars == "auto" else spec.real_stars
    paths = index_catalogue.find_index_files() if folders is None else index_catalogue.find_index_files(folders)
    if not paths:
        where = "the standard folders" if spec.real_stars == "auto" else spec.real_stars
        raise SynthSpecError(f"SynthSpec.real_stars={spec.real_stars!r}: no astrometry.net index file in {where}")
    h, w = shape
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    corners = np.array([[-margin, -margin], [w - 1 + margin, -margin], [-margin, h - 1 + margin],
                        [w - 1 + margin, h - 1 + margin]])
    ra0, dec0 = wcs.wcs_pix2world([[cx, cy]], 0)[0]
    cra, cdec = wcs.wcs_pix2world(corners, 0).T
    radius = float(np.max(_separation_deg(ra0, dec0, cra, cdec))) * 1.01
    stars = index_catalogue.index_stars(float(ra0), float(dec0), radius, paths)
    x, y = wcs.wcs_world2pix(stars.ra, stars.dec, 0)
    inside = (x >= -margin) & (x <= w - 1 + margin) & (y >= -margin) & (y <= h - 1 + margin)
    mag = stars.mag[inside]
    known = np.isfinite(mag)
    mag = np.where(known, mag, np.nanmedian(mag) if known.any() else 10.0)  # no magnitude: a typical one
    flux = 10.0 ** (-0.4 * (mag - spec.zero_point_mag))
    return stars.ra[inside], stars.dec[inside], flux, mag


def _separation_deg(ra1, dec1, ra2, dec2) -> np.ndarray:
    r1, d1, r2, d2 = (np.radians(np.asarray(v, dtype=np.float64)) for v in (ra1, dec1, ra2, dec2))
    hav = np.sin((d2 - d1) / 2) ** 2 + np.cos(d1) * np.cos(d2) * np.sin((r2 - r1) / 2) ** 2
    return np.degrees(2.0 * np.arcsin(np.sqrt(np.clip(hav, 0.0, 1.0))))


def bv_to_rgb_ratio(bv: np.ndarray) -> np.ndarray:
    """(N, 3) flux ratios R/G, 1, B/G of a black body of the B-V temperature, relative to a 5800 K (white) star."""
    temp = 4600.0 * (1.0 / (0.92 * bv + 1.7) + 1.0 / (0.92 * bv + 0.62))
    lam = np.asarray(_LAMBDA_UM)

    def planck(t):
        return lam ** -5 / np.expm1(_HC_OVER_K_UM_K / (lam * np.asarray(t)[..., None]))

    rel = planck(temp) / planck(5800.0)
    return rel / rel[:, 1:2]


def _make_nebula(spec: SynthSpec, shape: tuple[int, int],
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs in global pixels (one larger than a frame) modulated by a few long sine waves.

    Scales follow the frame size (a full Seestar frame gets structures of 4-25 arcmin) with floors in pixels, so
    that small test frames do not get a nebula sharp enough to bias star centroids.
    """
    if not spec.nebula:
        return np.zeros((0, 9)), np.zeros((0, 4))
    h, w = shape
    fw, fh = spec.width, spec.height
    size = float(max(fw, fh))
    palette = np.array([[1.0, 0.3, 0.35], [0.25, 0.85, 0.95], [0.5, 0.65, 1.0], [1.0, 0.6, 0.7]])
    big = [w / 2 + rng.normal(0, 0.1 * fw), h / 2 + rng.normal(0, 0.1 * fh), 0.7 * fh, 0.55 * fw,
           rng.uniform(0, math.pi), 0.45, *palette[0]]
    rows = [big]
    for k in range(3):
        rows.append([rng.uniform(0.15, 0.85) * w, rng.uniform(0.15, 0.85) * h,
                     max(24.0, rng.uniform(0.1, 0.2) * size), max(16.0, rng.uniform(0.05, 0.1) * size),
                     rng.uniform(0, math.pi), rng.uniform(0.4, 1.0), *palette[1 + k % 3]])
    if spec.nebula_floor_frac > 0:  # drawn after the others: a spec without a floor keeps its nebula
        rows.append(_nebula_floor(spec.nebula_floor_frac, w, h, rng, palette[0]))
    blobs = np.array(rows)
    blobs[:, 5] *= spec.nebula_peak_adu
    n_waves = 7
    wavelength = np.maximum(rng.uniform(0.08, 0.3, n_waves) * size, 32.0)
    theta = rng.uniform(0, 2 * math.pi, n_waves)
    weight = rng.uniform(0.5, 1.0, n_waves)
    waves = np.column_stack([2 * math.pi / wavelength * np.cos(theta), 2 * math.pi / wavelength * np.sin(theta),
                             rng.uniform(0, 2 * math.pi, n_waves), weight / weight.sum()])
    return blobs, waves


def _nebula_floor(frac: float, w: int, h: int, rng: np.random.Generator, colour: np.ndarray) -> list[float]:
    """A blob wider than the scene centred beyond one side of it: the nebula's floor, ``frac`` (of the peak) on
    that side, about half of it in the middle and a tenth on the far side."""
    diag = math.hypot(w, h)
    phi = rng.uniform(0, 2 * math.pi)
    return [w / 2 + 0.6 * diag * math.cos(phi), h / 2 + 0.6 * diag * math.sin(phi), 0.5 * diag, 0.5 * diag, 0.0,
            frac, *colour]


def _nebula_rgb(gx: np.ndarray, gy: np.ndarray, blobs: np.ndarray, waves: np.ndarray) -> np.ndarray:
    """Evaluate the nebula at global pixel coordinates; float32 (..., 3)."""
    gx, gy = np.asarray(gx, dtype=np.float32), np.asarray(gy, dtype=np.float32)
    out = np.zeros(gx.shape + (3,), dtype=np.float32)
    for cx, cy, sa, sb, ang, amp, r, g, b in blobs.astype(np.float32):
        dx, dy = gx - cx, gy - cy
        u = (dx * np.cos(ang) + dy * np.sin(ang)) / sa
        v = (dy * np.cos(ang) - dx * np.sin(ang)) / sb
        val = amp * np.exp(np.float32(-0.5) * (u * u + v * v))
        out += val[..., None] * np.array([r, g, b], dtype=np.float32)
    mod = np.ones(gx.shape, dtype=np.float32)
    for kx, ky, phase, weight in waves.astype(np.float32):
        mod += np.float32(0.4) * weight * np.sin(kx * gx + ky * gy + phase)
    out *= mod[..., None]
    return out


def _pixel_map(src: WCS, dst: WCS, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates in ``dst`` pixels of every ``src`` pixel of a ``shape`` grid, through a fitted homography.

    Between two TAN projections the map is exactly projective (gnomonic projections send great circles to lines),
    so 25 sample points fix it; other projections get the best homography and a warning if it is off by > 0.01 px.
    """
    h, w = shape
    sx, sy = (a.ravel() for a in np.meshgrid(np.linspace(0, w - 1, 5), np.linspace(0, h - 1, 5)))
    ra, dec = src.all_pix2world(sx, sy, 0)
    dx, dy = dst.all_world2pix(ra, dec, 0)
    norm = float(max(h, w))
    a, b = sx / norm, sy / norm
    one, zero = np.ones_like(a), np.zeros_like(a)
    rows_x = np.column_stack([a, b, one, zero, zero, zero, -a * dx, -b * dx])
    rows_y = np.column_stack([zero, zero, zero, a, b, one, -a * dy, -b * dy])
    coef = np.linalg.lstsq(np.vstack([rows_x, rows_y]), np.concatenate([dx, dy]), rcond=None)[0]
    hom = np.append(coef, 1.0).reshape(3, 3)
    fx, fy = _apply_homography(hom, a, b)
    err = float(np.max(np.hypot(fx - dx, fy - dy)))
    if err > 0.01:
        logger.warning("nebula pixel map: homography residual %.3f px (non-TAN WCS?)", err)
    ys, xs = np.arange(h) / norm, np.arange(w) / norm
    return _apply_homography(hom, xs[None, :], ys[:, None])


def _apply_homography(hom: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    den = hom[2, 0] * a + hom[2, 1] * b + hom[2, 2]
    return (hom[0, 0] * a + hom[0, 1] * b + hom[0, 2]) / den, (hom[1, 0] * a + hom[1, 1] * b + hom[1, 2]) / den


def _stamp_radii(peak_flux: np.ndarray, alpha: float, beta: float, floor_adu: float = 0.01,
                 r_max: int = 64) -> np.ndarray:
    """Stamp radius per star: 99 % of the profile at least, out to where it falls below ``floor_adu``.

    Radii are rounded up to ``r_min * 2**k`` so stars fall into a few stamp sizes.
    """
    r_min = max(2, math.ceil(alpha * math.sqrt(0.01 ** (1.0 / (1.0 - beta)) - 1.0)))
    peak = peak_flux * (beta - 1.0) / (math.pi * alpha ** 2)
    ratio = np.maximum(peak / floor_adu, 1.0)
    need = alpha * np.sqrt(np.maximum(ratio ** (1.0 / beta) - 1.0, 0.0))
    k = np.ceil(np.log2(np.maximum(need / r_min, 1.0)))
    return np.minimum(r_min * 2 ** k, max(r_max, r_min)).astype(np.int64)


def _stamps(x: np.ndarray, y: np.ndarray, radius: int, alpha: float, beta: float,
            shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Flat pixel indices (``h * w`` outside the image) and unit-sum Moffat weights, each (N, S*S)."""
    h, w = shape
    off = np.arange(-radius, radius + 1)
    ix, iy = np.rint(x).astype(np.int64), np.rint(y).astype(np.int64)
    cols = ix[:, None] + off  # (N, S)
    rows = iy[:, None] + off
    dx2 = (((cols - x[:, None]) / alpha) ** 2).astype(np.float32)
    dy2 = (((rows - y[:, None]) / alpha) ** 2).astype(np.float32)
    prof = np.power(np.float32(1.0) + dy2[:, :, None] + dx2[:, None, :], np.float32(-beta))
    prof /= prof.sum(axis=(1, 2), keepdims=True, dtype=np.float64).astype(np.float32)
    inside = ((rows >= 0) & (rows < h))[:, :, None] & ((cols >= 0) & (cols < w))[:, None, :]
    idx = np.where(inside, rows[:, :, None] * w + cols[:, None, :], h * w)  # h * w: the "outside" bin
    n = x.size
    return idx.reshape(n, -1), prof.reshape(n, -1)
