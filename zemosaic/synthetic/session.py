"""The plan of a synthetic session: the frames in time order over the panels, each with its dither, Alt-Az
rotation, seeing, transparency, light-pollution background, defects and true TAN WCS (:class:`FramePlan`), and the
north-up global grid that covers them all (:class:`Session`).
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from astropy.wcs import WCS

from zemosaic.synthetic import weather
from zemosaic.synthetic.headers import OVERHEAD_S, tan_cards, tan_wcs
from zemosaic.synthetic.scene import SkyBackground
from zemosaic.synthetic.spec import SynthSpec

__all__ = ["FramePlan", "Session", "plan_session"]


_FRAME_DEFECT_SEQUENCE = {"satellite_trail": 1, "cloudy_frame": 2, "starless_frame": 3}  # modulo frame count


@dataclass(frozen=True, eq=False)
class FramePlan:
    """One planned frame: its place in time and in the mosaic, its pointing (true WCS and its header cards), seeing,
    light pollution, transparency and defects."""

    sequence: int
    panel: int
    index_in_panel: int
    time_s: float
    rotation_deg: float
    dither: tuple[float, float]
    wcs: WCS
    wcs_cards: dict
    fwhm_px: float
    sky: SkyBackground
    transparency: float
    defects: tuple[str, ...]
    quality: Mapping[str, Any] | None = None  # the night's defect of this frame (weather.py), None when good


@dataclass(frozen=True, eq=False)
class Session:
    """The frames of a session in time order and the north-up global grid that covers every one of them."""

    plans: tuple[FramePlan, ...]
    global_wcs: WCS
    global_shape: tuple[int, int]


def plan_session(spec: SynthSpec, seed: int) -> Session:
    """Plan every frame of ``spec`` (``seed`` fixes dithers, seeing, skies and the night's defects)."""
    rng = np.random.default_rng([seed, 1])
    scale = spec.pixel_scale_arcsec / 3600.0
    prov = tan_wcs(tan_cards(spec.ra_deg, spec.dec_deg, (0.0, 0.0), scale, 0.0))
    order = _session_order(spec)
    n = len(order)
    frac = np.arange(n) / (n - 1) if n > 1 else np.zeros(1)
    drift = spec.rotation_drift_deg * frac
    rotation = spec.rotation_start_deg + (drift if spec.mount == "altaz" else 0.0 * drift)
    dither = rng.uniform(-spec.dither_px, spec.dither_px, size=(n, 2))
    fwhm = spec.fwhm_px * np.clip(1.0 + spec.fwhm_jitter * rng.standard_normal(n), 0.7, 1.5)
    transparency = 1.0 - spec.transparency_jitter * rng.random(n)
    centres = _panel_centres(spec)
    crpix = ((spec.width - 1) / 2.0, (spec.height - 1) / 2.0)
    cards = []
    for k, (panel, _) in enumerate(order):
        cx, cy = centres[panel] + dither[k]
        ra, dec = prov.wcs_pix2world(np.array([[cx, cy]]), 0)[0]
        cards.append(tan_cards(float(ra), float(dec), crpix, scale, float(rotation[k])))
    wcs_list = [tan_wcs(c) for c in cards]
    global_wcs, global_shape = _global_grid(prov, wcs_list, (spec.height, spec.width))
    skies = _plan_skies(spec, np.random.default_rng([seed, 4]), [p for p, _ in order], frac)
    night = weather.plan_defects(n, spec.bad_frame_fraction, spec.quality_defects, (spec.height, spec.width),
                                 np.random.default_rng([seed, 8]))
    plans = []
    for k, (panel, idx) in enumerate(order):
        defects = tuple(d for d, s in _FRAME_DEFECT_SEQUENCE.items() if d in spec.defects and s % n == k)
        sky, t = _apply_weather(skies[k], float(transparency[k]), defects)
        sky, t, fwhm[k] = _apply_night(sky, t, float(fwhm[k]), night[k])
        plans.append(FramePlan(sequence=k, panel=panel, index_in_panel=idx,
                                time_s=k * (spec.exposure_s + OVERHEAD_S), rotation_deg=float(rotation[k]),
                                dither=(float(dither[k, 0]), float(dither[k, 1])), wcs=wcs_list[k],
                                wcs_cards=cards[k], fwhm_px=float(fwhm[k]), sky=sky, transparency=t,
                                defects=defects + _night_kind(night[k]), quality=night[k]))
    return Session(plans=tuple(plans), global_wcs=global_wcs, global_shape=global_shape)


def _session_order(spec: SynthSpec) -> list[tuple[int, int]]:
    """(panel, index_in_panel) in time order: round-robin over panels, or panel after panel."""
    p, f = spec.n_panels, spec.frames_per_panel
    if spec.panel_order == "sequential":
        return [(i, j) for i in range(p) for j in range(f)]
    return [(i, j) for j in range(f) for i in range(p)]


def _panel_centres(spec: SynthSpec) -> np.ndarray:
    """Panel centres (x, y) in pixels from the scene centre; panel index = row * cols + col, rows along +y."""
    rows, cols = spec.panels
    step_x, step_y = spec.width * (1.0 - spec.overlap), spec.height * (1.0 - spec.overlap)
    r, c = np.divmod(np.arange(rows * cols), cols)
    return np.column_stack([(c - (cols - 1) / 2.0) * step_x, (r - (rows - 1) / 2.0) * step_y])


def _global_grid(prov: WCS, wcs_list: Sequence[WCS], frame_shape: tuple[int, int],
                 margin: int = 2) -> tuple[WCS, tuple[int, int]]:
    """North-up grid (same tangent point as ``prov``) whose pixels cover every frame's pixel edges."""
    h, w = frame_shape
    ex = np.array([-0.5, (w - 1) / 2.0, w - 0.5])
    ey = np.array([-0.5, (h - 1) / 2.0, h - 0.5])
    px, py = (a.ravel() for a in np.meshgrid(ex, ey))
    pts = np.concatenate([np.column_stack(prov.wcs_world2pix(*wcs.wcs_pix2world(px, py, 0), 0))
                          for wcs in wcs_list])
    x0, y0 = np.floor(pts.min(axis=0) - margin).astype(int)
    x1, y1 = np.ceil(pts.max(axis=0) + margin).astype(int)
    cards = tan_cards(float(prov.wcs.crval[0]), float(prov.wcs.crval[1]), (-x0, -y0),
                       float(abs(prov.wcs.cd[1, 1])), 0.0)
    return tan_wcs(cards), (int(y1 - y0 + 1), int(x1 - x0 + 1))


def _plan_skies(spec: SynthSpec, rng: np.random.Generator, panels: Sequence[int],
                frac: np.ndarray) -> list[SkyBackground]:
    """Per-frame light pollution: panel offsets, a brightening trend, jitter, a redder ground-fixed gradient."""
    n, p = len(panels), spec.n_panels
    level_f = rng.permutation(np.linspace(0.8, 1.25, p)) if (spec.panel_sky_offsets and p > 1) else np.ones(p)
    grad_f = rng.uniform(0.7, 1.3, p) if spec.panel_sky_offsets else np.ones(p)
    pan = np.asarray(panels)
    level = spec.sky_level_adu * level_f[pan] * (1.0 + 0.15 * frac) * (1.0 + 0.03 * rng.standard_normal(n))
    colour = np.asarray(spec.sky_colour) * (1.0 + 0.04 * rng.standard_normal((n, 3)))
    colour *= 1.0 + np.outer(frac, [0.06, 0.0, -0.06])
    grad = spec.gradient_frac * (grad_f[pan] * (1.0 + spec.gradient_jitter * rng.standard_normal(n)))[:, None]
    grad = grad * np.array([1.25, 1.0, 0.8])
    if spec.gradient_colour_jitter > 0:  # e.g. Moon vs city glow: the gradient's colour changes per frame
        grad = grad * (1.0 + spec.gradient_colour_jitter * rng.standard_normal((n, 3)))
    grad = np.clip(grad, 0.0, 0.9)
    phi0 = rng.uniform(0.0, 360.0)
    turn = spec.rotation_drift_deg * frac if spec.mount == "equatorial" else 0.0 * frac
    angle = (phi0 - turn + spec.gradient_angle_jitter_deg * rng.standard_normal(n)) % 360.0
    centre = ((spec.width - 1) / 2.0, (spec.height - 1) / 2.0)
    half_diag = 0.5 * math.hypot(spec.width, spec.height)
    return [SkyBackground(level_adu=float(level[k]), colour=_rgb(colour[k]), gradient=_rgb(grad[k]),
                          angle_deg=float(angle[k]), centre_xy=centre, scale_px=half_diag) for k in range(n)]


def _rgb(v: np.ndarray) -> tuple[float, float, float]:
    """A per-channel 3-vector as a tuple of Python floats."""
    return float(v[0]), float(v[1]), float(v[2])


def _night_kind(truth: Mapping[str, Any] | None) -> tuple[str, ...]:
    return (str(truth["kind"]),) if truth else ()


def _apply_night(sky: SkyBackground, transparency: float, fwhm: float, truth: Mapping[str, Any] | None
                 ) -> tuple[SkyBackground, float, float]:
    """The whole-frame part of a night defect: transparency, sky level and FWHM (partial ones act in the signal)."""
    if not truth or truth["kind"] in ("partial_cloud", "obstacle"):
        return sky, transparency, fwhm
    level = sky.level_adu * float(truth.get("sky_factor", 1.0))
    return (dataclasses.replace(sky, level_adu=level), transparency * float(truth.get("transparency", 1.0)),
            fwhm * float(truth.get("fwhm_factor", 1.0)))


def _apply_weather(sky: SkyBackground, transparency: float,
                   defects: tuple[str, ...]) -> tuple[SkyBackground, float]:
    """Cloudy frame: stars dimmed to 30 %, sky x2; starless frame: no stars or nebula, sky x2.5."""
    if "starless_frame" in defects:
        return dataclasses.replace(sky, level_adu=sky.level_adu * 2.5), 0.0
    if "cloudy_frame" in defects:
        return dataclasses.replace(sky, level_adu=sky.level_adu * 2.0), 0.3 * transparency
    return sky, transparency
