"""Synthetic Seestar-like data with ground truth, for tests, benchmarks and the ``demo`` command.

The generator builds one *sky scene* (a star catalogue and a smooth coloured nebula, fixed on the celestial sphere)
and observes it through a session of frames: several overlapping panels, a few frames per panel taken in turn
(``panel_order="interleaved"``), each with a random dither, a seeing-dependent FWHM, an Alt-Az field rotation that
drifts linearly in time, and its own light-pollution background. Frames are written as Seestar S50 raw files
(uint16 GRBG Bayer, pedestal, Poisson + read noise) with a celestial TAN WCS, and the truth goes to ``OUT/truth/``.

Flux scale (the same everywhere): ADU per frame of ``exposure_s`` above the pedestal. A channel value is what a
pixel filtered in that colour records, so the Bayer mosaic samples the R, G, B planes of the linear RGB render and a
debayered frame returns them. ``catalogue.flux_r/g/b`` are star totals in those planes; ``truth_sky.fits`` is the
noiseless stars + nebula (no light pollution, transparency 1, FWHM ``fwhm_px``) on the global grid.

Sky background model of one frame (:class:`SkyBackground`), in frame pixels ``(x, y)`` (0-based, x = column)::

    bg_c(x, y) = level * colour_c * (1 + gradient_c * ((x - cx) cos(a) + (y - cy) sin(a)) / scale)

with ``(cx, cy)`` the frame centre, ``scale`` the half diagonal and ``a = angle_deg``. The gradient comes from the
ground (light pollution), so its direction is fixed in Alt-Az frame pixels (the camera is fixed to the ground) while
the sky turns by the field rotation; in equatorial mode the frame follows the sky and the gradient angle turns by
``-rotation_drift_deg`` over the session instead. Either way it turns relative to the sky.

Frame orientation: the CD matrix of a frame rotated by ``rho`` degrees is
``scale * [[-cos rho, -sin rho], [-sin rho, cos rho]]`` (east left at ``rho = 0``); :func:`wcs_rotation_deg` reads
``rho`` back. Pixel coordinates follow astropy's 0-based convention: numpy element ``[i, j]`` is ``(x=j, y=i)``.
"""
from __future__ import annotations

import io
import json
import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from zemosaic.io.atomic import atomic_output, atomic_write_bytes
from zemosaic.io.fits import add_channel_axis
from zemosaic.progress import ProgressCallback, emit
from zemosaic.synthetic import weather
from zemosaic.synthetic.headers import (
    BAYER_PATTERN,
    frame_header,
    frame_name,
    frame_time,
)
from zemosaic.synthetic.scene import SkyBackground, SkyScene, build_scene, render_star_field
from zemosaic.synthetic.session import FramePlan, Session, plan_session
from zemosaic.synthetic.spec import (
    DEFECT_NAMES,
    MOUNT_MODES,
    REAL_STAR_ZERO_POINT,
    SENSOR_S50,
    SynthSpec,
    SynthSpecError,
)

__all__ = [
    "DEFECT_NAMES",
    "MOUNT_MODES",
    "REAL_STAR_ZERO_POINT",
    "SENSOR_S50",
    "SynthSpecError",
    "SynthSpec",
    "SkyBackground",
    "SkyScene",
    "FrameTruth",
    "SynthDataset",
    "FrameGroup",
    "generate_dataset",
    "make_sky_scene",
    "make_frame_group",
    "render_star_field",
    "mosaic_bayer",
    "rotated_footprint_coverage",
    "wcs_rotation_deg",
]

logger = logging.getLogger(__name__)

_BAD_FILE_DEFECTS = ("truncated_file", "not_fits", "no_wcs", "all_nan", "wrong_size")


@dataclass(frozen=True, eq=False)
class FrameTruth:
    """What one written frame really is.

    ``dither_px`` is the pointing offset (dx, dy) from the panel centre in global-grid pixels; ``rotation_deg`` the
    angle of the CD matrix; ``transparency`` multiplies stars and nebula; ``defects`` names the frame defects it
    carries (``details`` gives their parameters, e.g. the satellite trail's line).
    """

    path: Path
    panel: int
    index_in_panel: int
    sequence: int
    date_obs: str
    rotation_deg: float
    dither_px: tuple[float, float]
    wcs: WCS
    wcs_cards: Mapping[str, Any]
    fwhm_px: float
    transparency: float
    sky: SkyBackground
    defects: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready record (file name relative to the dataset folder)."""
        return {"file": self.path.name, "panel": self.panel, "index_in_panel": self.index_in_panel,
                "sequence": self.sequence, "date_obs": self.date_obs, "rotation_deg": self.rotation_deg,
                "dither_px": list(self.dither_px), "wcs": dict(self.wcs_cards), "fwhm_px": self.fwhm_px,
                "transparency": self.transparency, "sky": self.sky.to_dict(), "defects": list(self.defects),
                "details": dict(self.details)}


@dataclass(frozen=True, eq=False)
class SynthDataset:
    """A generated dataset: good frames (with truth), bad files (by defect name) and the truth folder."""

    out_dir: Path
    frame_paths: tuple[Path, ...]
    truth_dir: Path
    global_wcs: WCS
    global_shape: tuple[int, int]
    catalogue: Table
    frames: tuple[FrameTruth, ...]
    bad_files: Mapping[str, Path]
    hot_pixels: np.ndarray  # (N, 3) int: y, x, added ADU (sensor coordinates, same in every frame)
    scene: SkyScene
    spec: SynthSpec


@dataclass(frozen=True, eq=False)
class FrameGroup:
    """Frames of one panel (one pointing), in memory, pedestal removed, light pollution included.

    ``frames``: float32 ``H x W x 3`` (RGB), ``H x W`` (mono: channel mean) or ``H x W`` GRBG mosaic (``bayer``).
    ``truth_sky_ref``: noiseless stars + nebula on frame ``ref_index``'s grid (RGB, or mono when frames are mono).
    ``background_models[i].render(shape)`` is the exact RGB background added to frame i (see :meth:`background`).
    ``noise_sigma``: sky-limited noise per frame, (n, 3) (RGB / Bayer channels) or (n,) (mono); zeros if noise off.
    ``shifts``: dither (dx, dy) per frame in pixels of the panel grid; ``rotations_deg``: CD-matrix angle per frame.
    """

    frames: tuple[np.ndarray, ...]
    wcs_list: tuple[WCS, ...]
    truth_sky_ref: np.ndarray
    ref_index: int
    background_models: tuple[SkyBackground, ...]
    noise_sigma: np.ndarray
    rotations_deg: np.ndarray
    shifts: np.ndarray
    scene: SkyScene
    layout: str  # "rgb", "mono" or "bayer:GRBG"

    def background(self, i: int) -> np.ndarray:
        """Background added to frame ``i``, in that frame's layout (float32)."""
        bg = self.background_models[i].render(self.frames[i].shape[:2])
        if self.layout == "mono":
            return bg.mean(axis=2)
        if self.layout.startswith("bayer"):
            return mosaic_bayer(bg, BAYER_PATTERN)
        return bg


# ------------------------------------------------------------------------------------------------------------------
# public functions


def generate_dataset(out_dir: os.PathLike | str, spec: SynthSpec, *,
                     progress_callback: ProgressCallback | None = None) -> SynthDataset:
    """Write a synthetic session into ``out_dir`` and its ground truth into ``out_dir/truth``.

    Parameters
    ----------
    out_dir : path-like
        Folder for the frames (created). Frames are named like Seestar files,
        ``Light_<target>_<exp>s_IRCUT_<YYYYmmdd-HHMMSS>.fit``; bad files (defects) use the same pattern.
    spec : SynthSpec
        What to generate.
    progress_callback : callable, optional
        Receives ``ProgressEvent("synth", done, total, message)`` after each frame and after the truth.

    Returns
    -------
    SynthDataset
        Paths, global WCS, catalogue and per-frame truth. ``truth/`` holds ``truth_sky.fits`` (float32 3 x H x W on
        the global WCS), ``catalogue.csv`` and ``frames.json`` (``{"spec", "global_wcs", "global_shape",
        "flux_unit", "frames": [...], "bad_files": [...], "hot_pixels": [...]}``).
    """
    out = Path(out_dir)
    truth_dir = out / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    session = plan_session(spec, spec.seed)
    scene = build_scene(spec, session.global_wcs, session.global_shape, spec.seed)
    hot = _hot_pixels(spec) if "hot_pixels" in spec.defects else np.zeros((0, 3), dtype=np.int64)
    total = len(session.plans) + 1
    frames, first_raw = [], None
    for k, plan in enumerate(session.plans):
        raw = _simulate_raw(scene, plan, spec, hot)
        path = out / frame_name(spec, plan.sequence)
        _write_fits(path, raw, frame_header(spec, plan))
        frames.append(_frame_truth(path, plan, spec))
        first_raw = raw if first_raw is None else first_raw
        emit(progress_callback, "synth", k + 1, total, f"frame {k + 1}/{len(session.plans)} {path.name}")
    assert first_raw is not None  # a spec has at least one frame (panels and frames_per_panel >= 1)
    bad = _write_bad_files(out, spec, session, first_raw)
    _write_truth(truth_dir, spec, session, scene, frames, bad, hot)
    emit(progress_callback, "synth", total, total, "truth written")
    logger.info("synthetic dataset: %d frames, %d bad files, global grid %dx%d in %s", len(frames), len(bad),
                session.global_shape[1], session.global_shape[0], out)
    return SynthDataset(out_dir=out, frame_paths=tuple(f.path for f in frames), truth_dir=truth_dir,
                        global_wcs=session.global_wcs, global_shape=session.global_shape,
                        catalogue=scene.catalogue, frames=tuple(frames), bad_files=bad, hot_pixels=hot,
                        scene=scene, spec=spec)


def make_sky_scene(spec: SynthSpec, seed: int | None = None) -> SkyScene:
    """Build the sky scene of ``spec`` (the one :func:`generate_dataset` observes), without writing anything.

    Parameters
    ----------
    spec : SynthSpec
        Geometry (the global grid covers every frame of the session), star density, nebula switch.
    seed : int, optional
        Overrides ``spec.seed``.

    Returns
    -------
    SkyScene
    """
    seed = spec.seed if seed is None else int(seed)
    session = plan_session(spec, seed)
    return build_scene(spec, session.global_wcs, session.global_shape, seed)


def make_frame_group(n_frames: int = 8, *, shape: tuple[int, int] = (256, 384), rotation_drift_deg: float = 20.0,
                     dither_px: float = 4.0, seed: int = 0, rgb: bool = True, bayer: bool = False,
                     noise: bool = True, sky_gradients: bool = True, nebula: bool = True, ref_index: int = 0,
                     fwhm: float = 3.0, pixel_scale_arcsec: float = 2.4,
                     star_density_per_deg2: float = 4000.0, gradient_frac: float = 0.2,
                     gradient_colour_jitter: float = 0.0) -> FrameGroup:
    """Frames of one Alt-Az panel in memory (no disk), for alignment, stacking and background tests.

    Each frame = transparency-1 stars + nebula seen through its WCS (rotation drifting linearly from 0 to
    ``rotation_drift_deg``, dither up to ``dither_px``) + its :class:`SkyBackground` (own level and colour cast,
    a linear gradient of ~20 % when ``sky_gradients``, fixed in frame pixels so it turns relative to the sky) +
    Poisson and read noise when ``noise``. Pedestal removed, float32.

    Parameters
    ----------
    n_frames : int
        Frames in the group.
    shape : tuple of int
        ``(H, W)`` of every frame.
    rgb, bayer : bool
        Layout: RGB ``H x W x 3`` (default), mono ``H x W`` (channel mean) when ``rgb=False``, or a GRBG mosaic
        ``H x W`` when ``bayer=True`` (``rgb`` then ignored).
    ref_index : int
        Frame whose grid carries ``truth_sky_ref``.
    gradient_frac, gradient_colour_jitter : float
        Gradient strength (fraction of the level, centre to corner) and the relative per-frame, per-channel scatter
        of its colour (0: every frame's gradient has the same colour).

    Returns
    -------
    FrameGroup
    """
    spec = SynthSpec(panels=(1, 1), overlap=0.0, frames_per_panel=n_frames, width=shape[1], height=shape[0],
                     pixel_scale_arcsec=pixel_scale_arcsec, mount="altaz", rotation_drift_deg=rotation_drift_deg,
                     dither_px=dither_px, seed=seed, fwhm_px=fwhm, fwhm_jitter=0.0, nebula=nebula,
                     gradient_frac=gradient_frac if sky_gradients else 0.0,
                     gradient_colour_jitter=gradient_colour_jitter, panel_sky_offsets=False, bayer=bayer,
                     noise=noise, star_density_per_deg2=star_density_per_deg2)
    if not 0 <= ref_index < n_frames:
        raise ValueError(f"ref_index {ref_index} outside 0..{n_frames - 1}")
    layout = f"bayer:{BAYER_PATTERN}" if bayer else ("rgb" if rgb else "mono")
    session = plan_session(spec, seed)
    scene = build_scene(spec, session.global_wcs, session.global_shape, seed)
    frames = tuple(_group_frame(scene, plan, spec, layout) for plan in session.plans)
    ref = session.plans[ref_index]
    truth = scene.render(ref.wcs, shape, nebula=nebula)
    truth = truth.mean(axis=2) if layout == "mono" else truth
    skies = tuple(p.sky for p in session.plans)
    sigma = _sky_noise_sigma(skies, spec, mono=layout == "mono") * (1.0 if noise else 0.0)
    return FrameGroup(frames=frames, wcs_list=tuple(p.wcs for p in session.plans), truth_sky_ref=truth,
                      ref_index=ref_index, background_models=skies, noise_sigma=sigma,
                      rotations_deg=np.array([p.rotation_deg for p in session.plans]),
                      shifts=np.array([p.dither for p in session.plans]), scene=scene, layout=layout)


def rotated_footprint_coverage(shape: tuple[int, int], n: int = 20, *, max_angle_deg: float = 12.0,
                               max_shift: float = 0.03, size: float = 0.9, seed: int = 0) -> np.ndarray:
    """Coverage map of ``n`` rotated, shifted rectangular footprints, like the frames of an Alt-Az group.

    Frame ``k`` is a rectangle of ``size`` x the frame, rotated by an angle going linearly from
    ``-max_angle_deg`` to ``+max_angle_deg`` and shifted by up to ``max_shift`` of each side.

    Returns
    -------
    numpy.ndarray
        float32 ``H x W``: how many footprints cover each pixel.
    """
    h, w = shape
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w].astype(np.float64)
    cov = np.zeros((h, w), np.float32)
    for k in range(n):
        th = np.deg2rad(max_angle_deg * (2.0 * k / max(n - 1, 1) - 1.0))
        cy = (h - 1) / 2 + rng.uniform(-1, 1) * max_shift * h
        cx = (w - 1) / 2 + rng.uniform(-1, 1) * max_shift * w
        u = (xx - cx) * np.cos(th) + (yy - cy) * np.sin(th)
        v = -(xx - cx) * np.sin(th) + (yy - cy) * np.cos(th)
        cov += (np.abs(u) <= size * w / 2) & (np.abs(v) <= size * h / 2)
    return cov


def mosaic_bayer(rgb: np.ndarray, pattern: str = BAYER_PATTERN) -> np.ndarray:
    """Sample an RGB image through a Bayer colour filter array.

    Parameters
    ----------
    rgb : numpy.ndarray
        ``H x W x 3`` linear R, G, B.
    pattern : str
        2x2 pattern read row by row from numpy element ``[0, 0]`` (e.g. ``"GRBG"``: ``[0,0]`` G, ``[0,1]`` R,
        ``[1,0]`` B, ``[1,1]`` G).

    Returns
    -------
    numpy.ndarray
        ``H x W`` mosaic with ``rgb``'s dtype.
    """
    pattern = pattern.strip().upper()
    if sorted(pattern) != sorted("RGGB"):
        raise ValueError(f"not a Bayer pattern: {pattern!r}")
    out = np.empty(rgb.shape[:2], dtype=rgb.dtype)
    for k, letter in enumerate(pattern):
        oy, ox = divmod(k, 2)
        out[oy::2, ox::2] = rgb[oy::2, ox::2, "RGB".index(letter)]
    return out


def wcs_rotation_deg(wcs: WCS) -> float:
    """Field angle ``rho`` (degrees) of a celestial WCS written as ``scale * [[-cos, -sin], [-sin, cos]]``."""
    m = wcs.celestial.pixel_scale_matrix
    return math.degrees(math.atan2(-m[1, 0], m[1, 1]))


# ------------------------------------------------------------------------------------------------------------------
# private helpers: observing frames


def _frame_signal(scene: SkyScene, plan: FramePlan, spec: SynthSpec) -> np.ndarray:
    """Noiseless RGB signal of one frame above the pedestal: sky x transparency + light pollution (+ trail)."""
    shape = (spec.height, spec.width)
    signal = plan.sky.render(shape)
    q = plan.quality or {}
    if plan.transparency > 0:
        sky = scene.render(plan.wcs, shape, nebula=spec.nebula, fwhm=plan.fwhm_px)
        if spec.sensor_response is not None:
            sky *= np.asarray(spec.sensor_response, dtype=np.float32)
        if q.get("kind") == "trail":
            sky = weather.smear(sky, q["length_px"], q["angle_deg"])
        signal += plan.transparency * sky
    if "satellite_trail" in plan.defects:
        signal += _satellite_trail(shape, **_trail_params(spec, plan.sequence))
    if q.get("kind") == "satellite":
        signal += _satellite_trail(shape, **{k: q[k] for k in ("x0", "y0", "angle_deg", "peak_adu", "sigma_px")})
    if "region" in q:
        signal = _partial_defect(signal, plan, q, shape)
    return signal


def _partial_defect(signal: np.ndarray, plan: FramePlan, q: Mapping[str, Any], shape: tuple[int, int]) -> np.ndarray:
    """A cloud over part of the frame (the sky's light dimmed, its own glow added) or an obstacle (a starless
    silhouette) inside the defect's half-plane."""
    m = weather.region_map(shape, q["region"])[..., None]
    base = plan.sky.render(shape)
    if q["kind"] == "obstacle":
        return signal * (1.0 - m) + m * np.float32(q["level_factor"]) * base
    above = signal - base  # stars and nebula
    glow = base * (1.0 + m * np.float32(q["sky_factor"] - 1.0))
    return glow + above * (1.0 - m * np.float32(1.0 - q["transparency"]))


def _add_noise(signal: np.ndarray, gain: float, read_noise_e: float, rng: np.random.Generator) -> np.ndarray:
    """Shot noise (Poisson below 50 e-, its Gaussian limit above: same mean and variance) + read noise, in ADU."""
    lam = np.clip(signal, 0.0, None).astype(np.float32) * np.float32(gain)
    electrons = lam + np.sqrt(lam) * rng.standard_normal(lam.shape, dtype=np.float32)
    low = lam < 50.0
    if low.any():
        electrons[low] = rng.poisson(lam[low]).astype(np.float32)
    electrons += rng.standard_normal(lam.shape, dtype=np.float32) * np.float32(read_noise_e)
    return electrons / np.float32(gain)


def _simulate_raw(scene: SkyScene, plan: FramePlan, spec: SynthSpec, hot: np.ndarray) -> np.ndarray:
    """uint16 raw frame: GRBG mosaic (or 3 x H x W) + noise + pedestal + hot pixels, clipped to 0..65535."""
    signal = _frame_signal(scene, plan, spec)
    data = mosaic_bayer(signal, BAYER_PATTERN) if spec.bayer else np.moveaxis(signal, -1, 0)
    if spec.noise:
        data = _add_noise(data, spec.gain, spec.read_noise_e, np.random.default_rng([spec.seed, 5, plan.sequence]))
    data = data + np.float32(spec.pedestal_adu)
    if len(hot):
        data[..., hot[:, 0], hot[:, 1]] += hot[:, 2].astype(np.float32)
    return np.clip(np.rint(data), 0, 65535).astype(np.uint16)


def _group_frame(scene: SkyScene, plan: FramePlan, spec: SynthSpec, layout: str) -> np.ndarray:
    signal = _frame_signal(scene, plan, spec)
    if layout == "mono":
        signal = signal.mean(axis=2)
    elif layout.startswith("bayer"):
        signal = mosaic_bayer(signal, BAYER_PATTERN)
    if spec.noise:
        signal = _add_noise(signal, spec.gain, spec.read_noise_e, np.random.default_rng([spec.seed, 5, plan.sequence]))
    return np.ascontiguousarray(signal, dtype=np.float32)


def _sky_noise_sigma(skies: Sequence[SkyBackground], spec: SynthSpec, *, mono: bool) -> np.ndarray:
    """Noise of a sky pixel at each frame's mean level, ADU: (n, 3), or (n,) for the channel-mean mono layout."""
    levels = np.array([s.channel_levels for s in skies])
    levels = levels.mean(axis=1) if mono else levels
    return np.sqrt(levels * spec.gain + spec.read_noise_e ** 2) / spec.gain


def _hot_pixels(spec: SynthSpec) -> np.ndarray:
    """Fixed sensor positions (y, x) and added ADU, the same in every frame."""
    rng = np.random.default_rng([spec.seed, 6])
    n = max(5, int(round(5e-5 * spec.width * spec.height)))
    flat = rng.choice(spec.width * spec.height, size=n, replace=False)
    y, x = np.divmod(flat, spec.width)
    return np.column_stack([y, x, rng.integers(2000, 40000, n)]).astype(np.int64)


def _trail_params(spec: SynthSpec, sequence: int) -> dict:
    rng = np.random.default_rng([spec.seed, 7, sequence])
    return {"x0": float(rng.uniform(0.3, 0.7) * spec.width), "y0": float(rng.uniform(0.3, 0.7) * spec.height),
            "angle_deg": float(rng.uniform(0, 180)), "peak_adu": 600.0, "sigma_px": 1.0}


def _satellite_trail(shape: tuple[int, int], *, x0: float, y0: float, angle_deg: float, peak_adu: float,
                     sigma_px: float) -> np.ndarray:
    """A straight, slightly bluish-white line across the frame with a Gaussian cross-section; H x W x 3."""
    h, w = shape
    a = math.radians(angle_deg)
    dist = ((np.arange(w) - x0)[None, :] * math.sin(a) - (np.arange(h) - y0)[:, None] * math.cos(a))
    line = (peak_adu * np.exp(-0.5 * (dist / sigma_px) ** 2)).astype(np.float32)
    return line[..., None] * np.array([0.95, 1.0, 1.05], dtype=np.float32)


# ------------------------------------------------------------------------------------------------------------------
# private helpers: files


def _frame_truth(path: Path, plan: FramePlan, spec: SynthSpec) -> FrameTruth:
    details: dict[str, Any] = {}
    if "satellite_trail" in plan.defects:
        details["satellite_trail"] = _trail_params(spec, plan.sequence)
    if plan.quality:
        details["quality"] = dict(plan.quality)
    return FrameTruth(path=path, panel=plan.panel, index_in_panel=plan.index_in_panel, sequence=plan.sequence,
                      date_obs=frame_time(spec, plan.sequence).isoformat(timespec="milliseconds"),
                      rotation_deg=plan.rotation_deg, dither_px=plan.dither, wcs=plan.wcs,
                      wcs_cards=dict(plan.wcs_cards), fwhm_px=plan.fwhm_px, transparency=plan.transparency,
                      sky=plan.sky, defects=plan.defects, details=details)


def _write_fits(path: Path, data: np.ndarray, header: fits.Header | None) -> None:
    """Write a primary HDU atomically."""
    with atomic_output(path) as handle:
        fits.PrimaryHDU(data=data, header=header).writeto(handle)


def _write_bad_files(out: Path, spec: SynthSpec, session: Session, first_raw: np.ndarray) -> dict[str, Path]:
    """Extra files named like frames (times after the session): one per requested bad-input defect."""
    wanted = [d for d in _BAD_FILE_DEFECTS if d in spec.defects]
    plan0 = session.plans[0]
    header = frame_header(spec, plan0)
    bad: dict[str, Path] = {}
    for k, defect in enumerate(wanted):
        path = out / frame_name(spec, len(session.plans) + k)
        if defect == "truncated_file":
            payload = _fits_bytes(first_raw, header)
            header_bytes = len(payload) - math.ceil(first_raw.nbytes / 2880) * 2880
            atomic_write_bytes(path, payload[:header_bytes + first_raw.nbytes // 2])  # half the data is missing
        elif defect == "not_fits":
            atomic_write_bytes(path, b"This is not a FITS file: synthetic bad-input defect.\n" * 40)
        elif defect == "no_wcs":
            stripped = header.copy()
            for key in list(plan0.wcs_cards) + ["RA", "DEC"]:
                stripped.remove(key, ignore_missing=True)
            _write_fits(path, first_raw, stripped)
        elif defect == "all_nan":
            nan = np.full(first_raw.shape, np.nan, dtype=np.float32)
            _write_fits(path, nan, header)
        elif defect == "wrong_size":
            h2, w2 = (spec.height // 4) * 2, (spec.width // 4) * 2
            _write_fits(path, np.ascontiguousarray(first_raw[..., :h2, :w2]), header)
        bad[defect] = path
    return bad


def _fits_bytes(data: np.ndarray, header: fits.Header) -> bytes:
    buf = io.BytesIO()
    fits.PrimaryHDU(data=data, header=header).writeto(buf)
    return buf.getvalue()


def _write_truth(truth_dir: Path, spec: SynthSpec, session: Session, scene: SkyScene,
                 frames: Sequence[FrameTruth], bad: Mapping[str, Path], hot: np.ndarray) -> None:
    """truth_sky.fits (rendered in row blocks), catalogue.csv and frames.json."""
    sky = _render_global(scene, block_rows=512)
    header = fits.Header()
    for key, value in _wcs_cards_of(session.global_wcs).items():
        header[key] = value
    add_channel_axis(header)  # a C x H x W cube: its third axis said, not left to the reader's guess
    header["BUNIT"] = ("adu", "ADU per frame of exposure, above pedestal")
    header["COMMENT"] = "Noiseless stars + nebula, no light pollution, transparency 1 (synthetic truth)."
    _write_fits(truth_dir / "truth_sky.fits", np.moveaxis(sky, -1, 0).copy(), header)
    scene.catalogue.write(truth_dir / "catalogue.csv", format="ascii.csv", overwrite=True)
    record = {
        "spec": spec.to_dict(),
        "flux_unit": "ADU per frame of exposure above the pedestal; channels are R, G, B planes of the GRBG sensor",
        "global_wcs": _wcs_cards_of(session.global_wcs),
        "global_shape": list(session.global_shape),
        "frames": [f.to_dict() for f in frames],
        "bad_files": [{"file": p.name, "defect": d} for d, p in bad.items()],
        "hot_pixels": hot.tolist(),
    }
    atomic_write_bytes(truth_dir / "frames.json", json.dumps(record, indent=1).encode())


def _render_global(scene: SkyScene, block_rows: int) -> np.ndarray:
    h, w = scene.global_shape
    out = np.empty((h, w, 3), dtype=np.float32)
    for y0 in range(0, h, block_rows):
        y1 = min(h, y0 + block_rows)
        wcs = scene.global_wcs.deepcopy()
        wcs.wcs.crpix[1] -= y0
        out[y0:y1] = scene.render(wcs, (y1 - y0, w))
    return out


def _wcs_cards_of(wcs: WCS) -> dict:
    c, cd = wcs.wcs, wcs.pixel_scale_matrix
    return {"WCSAXES": 2, "CTYPE1": c.ctype[0], "CTYPE2": c.ctype[1], "CUNIT1": "deg", "CUNIT2": "deg",
            "CRVAL1": float(c.crval[0]), "CRVAL2": float(c.crval[1]), "CRPIX1": float(c.crpix[0]),
            "CRPIX2": float(c.crpix[1]), "CD1_1": float(cd[0, 0]), "CD1_2": float(cd[0, 1]),
            "CD2_1": float(cd[1, 0]), "CD2_2": float(cd[1, 1]), "RADESYS": "ICRS", "EQUINOX": 2000.0}
