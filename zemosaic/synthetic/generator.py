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

import dataclasses
import io
import json
import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from zemosaic.io.atomic import atomic_output, atomic_write_bytes
from zemosaic.progress import ProgressCallback, emit
from zemosaic.solve import index_catalogue
from zemosaic.synthetic import weather
from zemosaic.synthetic.headers import (
    BAYER_PATTERN,
    OVERHEAD_S,
    frame_header,
    frame_name,
    frame_time,
    tan_cards,
    tan_wcs,
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

DEFECT_NAMES = ("hot_pixels", "satellite_trail", "cloudy_frame", "starless_frame", "truncated_file", "not_fits",
                "no_wcs", "all_nan", "wrong_size")
MOUNT_MODES = ("altaz", "equatorial")
_BAD_FILE_DEFECTS = ("truncated_file", "not_fits", "no_wcs", "all_nan", "wrong_size")
_FRAME_DEFECT_SEQUENCE = {"satellite_trail": 1, "cloudy_frame": 2, "starless_frame": 3}  # modulo frame count
_LAMBDA_UM = (0.60, 0.53, 0.46)  # effective R, G, B wavelengths used for star colours
_HC_OVER_K_UM_K = 14387.77
SENSOR_S50 = (0.78, 1.0, 0.62)
"""Relative R, G, B response of the Seestar S50's sensor behind its IR-cut filter (``SynthSpec.sensor_response``):
green strongest, as real S50 stacks show (median star G/R ~1.27 and G/B ~1.64 on one public set of sub-frames)."""
REAL_STAR_ZERO_POINT = 20.7
"""Default ``SynthSpec.zero_point_mag``: a star of magnitude ``m`` gives ``10 ** (-0.4 * (m - 20.7))`` ADU per frame.

A mag-12 star then totals ~3000 ADU (peak ~200 ADU at FWHM 3 px against a sky noise of ~20 ADU at the default
400 ADU sky: clearly detected, SNR ~ 25), mag 15 gives ~190 ADU, near the synthetic law's faintest stars
(150 ADU), as a 10 s Seestar sub-frame roughly reaches. Stars brighter than ~mag 9 saturate the raw frame."""


class SynthSpecError(ValueError):
    """A :class:`SynthSpec` field has an invalid value (the message names the field)."""


@dataclass(frozen=True)
class SynthSpec:
    """Everything that defines a synthetic dataset; the same spec and seed give byte-identical files.

    Geometry: ``panels`` is ``(rows, cols)`` on a north-up grid, panel centres ``(1 - overlap)`` frame sizes apart;
    frames are ``width x height`` pixels (portrait by default) at ``pixel_scale_arcsec``. ``rotation_drift_deg`` is
    the change of the field angle from the first to the last frame of the session (linear in time); Alt-Az frames
    rotate by it, equatorial frames keep ``rotation_start_deg``. ``dither_px``: uniform random offset per axis.
    Stars: ``n_stars`` over the whole scene when given, else ``star_density_per_deg2``. Photometry: ``gain`` is in
    e-/ADU (the header's ``GAIN`` is the Seestar gain setting, ``EGAIN`` this value); levels are ADU per frame.
    ``defects`` are names from :data:`DEFECT_NAMES`. ``bad_frame_fraction`` of the frames get one of the night's
    defects ``quality_defects`` each (:mod:`zemosaic.synthetic.weather`: clouds, trails, focus drift, dew,
    obstacles, satellites), with their truth in ``FrameTruth.details["quality"]``.

    Real-telescope headers: ``header_wcs=False`` writes frames without any WCS card, only the Seestar hints (``RA``,
    ``DEC`` in degrees, ``OBJCTRA``/``OBJCTDEC`` sexagesimal, ``FOCALLEN``, ``XPIXSZ``...), as a Seestar S50 does.
    The hints are the true frame centre moved by ``hint_error_arcmin`` (between 0.5 and 1 times it, random direction,
    seeded per frame); ``hint_same_for_all`` writes one target (the scene centre ``ra_deg, dec_deg`` moved once by
    that error) into every frame, as the Seestar mosaic mode does. ``real_stars`` (a folder of astrometry.net index
    files, or ``"auto"`` for :func:`zemosaic.solve.index_catalogue.find_index_files`) puts the index's stars at their
    catalogue positions, with ADU fluxes ``10 ** (-0.4 * (MAG_VT - zero_point_mag))`` per frame (see
    :data:`REAL_STAR_ZERO_POINT`); synthetic stars fill in below the index's faint limit.

    Sensor: ``sensor_response`` (R, G, B gains, e.g. :data:`SENSOR_S50`) multiplies the light of the sky scene
    (stars and nebula) between the truth and the raw frames, as a real sensor's colour response does; the truth
    (``catalogue.csv`` fluxes, ``truth_sky.fits``) keeps the scene's true colours (a 5800 K star is 1 : 1 : 1), and
    ``sky_colour`` stays the light pollution's colour as recorded.  None (the default) records the scene's true
    colours (the data every test written before this option was made from).

    Nebula: ``nebula_floor_frac`` > 0 adds a field-filling floor that rises to one side (a blob wider than the scene
    centred beyond one of its sides, random direction: that fraction of ``nebula_peak_adu`` on that side, about
    half of it in the middle, a tenth on the far side), the case where the darkest part of a mosaic is still
    nebula; 0 (the default) adds none and leaves every earlier spec's frames as they were. Light pollution:
    ``gradient_jitter`` (relative, default 0.1) and ``gradient_angle_jitter_deg`` (default 3) are the random
    frame-to-frame changes of each frame's gradient (its amplitude and direction in the frame) around its panel's.
    """

    panels: tuple[int, int] = (2, 2)
    overlap: float = 0.3
    frames_per_panel: int = 8
    width: int = 1080
    height: int = 1920
    pixel_scale_arcsec: float = 2.4
    mount: str = "altaz"
    rotation_drift_deg: float = 20.0
    rotation_start_deg: float = 0.0
    dither_px: float = 4.0
    seed: int = 0
    ra_deg: float = 83.8
    dec_deg: float = -5.4
    target: str = "Synth"
    n_stars: int | None = None
    star_density_per_deg2: float = 4000.0
    fwhm_px: float = 3.0
    fwhm_jitter: float = 0.05
    moffat_beta: float = 2.5
    nebula: bool = True
    nebula_peak_adu: float = 120.0
    nebula_floor_frac: float = 0.0
    sky_level_adu: float = 400.0
    sky_colour: tuple[float, float, float] = (1.12, 1.0, 0.78)
    gradient_frac: float = 0.2
    gradient_colour_jitter: float = 0.0
    gradient_jitter: float = 0.1
    gradient_angle_jitter_deg: float = 3.0
    panel_sky_offsets: bool = True
    transparency_jitter: float = 0.0
    read_noise_e: float = 1.6
    gain: float = 1.0
    pedestal_adu: float = 300.0
    exposure_s: float = 10.0
    bayer: bool = True
    noise: bool = True
    panel_order: str = "interleaved"
    start_time: str = "2024-03-15T21:00:00"
    defects: tuple[str, ...] = ()
    header_wcs: bool = True
    hint_error_arcmin: float = 0.0
    hint_same_for_all: bool = False
    real_stars: str | None = None
    zero_point_mag: float = REAL_STAR_ZERO_POINT
    bad_frame_fraction: float = 0.0
    quality_defects: tuple[str, ...] = ()
    sensor_response: tuple[float, float, float] | None = None

    def __post_init__(self) -> None:
        if self.sensor_response is not None:
            object.__setattr__(self, "sensor_response", tuple(float(v) for v in self.sensor_response))
        object.__setattr__(self, "panels", tuple(int(v) for v in self.panels))
        object.__setattr__(self, "sky_colour", tuple(float(v) for v in self.sky_colour))
        object.__setattr__(self, "defects", tuple(self.defects))
        object.__setattr__(self, "quality_defects", tuple(self.quality_defects))
        _validate_spec(self)

    @property
    def n_panels(self) -> int:
        """Number of panels (rows x cols)."""
        return self.panels[0] * self.panels[1]

    @property
    def n_frames(self) -> int:
        """Number of good frames in the session."""
        return self.n_panels * self.frames_per_panel

    def to_dict(self) -> dict:
        """JSON-ready dictionary of the fields (those of ``_LATER_DEFAULTS`` only when not at their default: the
        truth written for the specs made before they existed stays as it was)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(self).items()
                if _LATER_DEFAULTS.get(k, object()) != v}


_LATER_DEFAULTS = {"nebula_floor_frac": 0.0, "gradient_jitter": 0.1, "gradient_angle_jitter_deg": 3.0}
"""Fields added after datasets were made, left out of :meth:`SynthSpec.to_dict` at their default."""


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
    session = _plan_session(spec, spec.seed)
    scene = _build_scene(spec, session, spec.seed)
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
    return _build_scene(spec, _plan_session(spec, seed), seed)


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
    session = _plan_session(spec, seed)
    scene = _build_scene(spec, session, seed)
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
# private helpers: spec validation


def _validate_spec(s: SynthSpec) -> None:
    checks = [
        ("panels", len(s.panels) == 2 and min(s.panels) >= 1, "must be two integers >= 1 (rows, cols)"),
        ("overlap", 0.0 <= s.overlap < 0.95, "must be in [0, 0.95)"),
        ("frames_per_panel", s.frames_per_panel >= 1, "must be >= 1"),
        ("width", s.width >= 16, "must be >= 16 pixels"),
        ("height", s.height >= 16, "must be >= 16 pixels"),
        ("pixel_scale_arcsec", s.pixel_scale_arcsec > 0, "must be > 0"),
        ("mount", s.mount in MOUNT_MODES, f"must be one of {', '.join(MOUNT_MODES)}"),
        ("dither_px", s.dither_px >= 0, "must be >= 0"),
        ("dec_deg", -89.0 <= s.dec_deg <= 89.0, "must be within [-89, 89]"),
        ("fwhm_px", s.fwhm_px > 0.3, "must be > 0.3"),
        ("moffat_beta", s.moffat_beta > 1.0, "must be > 1"),
        ("gradient_frac", 0.0 <= s.gradient_frac < 1.0, "must be in [0, 1)"),
        ("nebula_floor_frac", 0.0 <= s.nebula_floor_frac <= 10.0, "must be in [0, 10]"),
        ("gradient_jitter", 0.0 <= s.gradient_jitter <= 1.0, "must be in [0, 1]"),
        ("gradient_angle_jitter_deg", 0.0 <= s.gradient_angle_jitter_deg <= 180.0, "must be in [0, 180]"),
        ("gradient_colour_jitter", 0.0 <= s.gradient_colour_jitter <= 1.0, "must be in [0, 1]"),
        ("gain", s.gain > 0, "must be > 0 (e-/ADU)"),
        ("sky_colour", len(s.sky_colour) == 3 and min(s.sky_colour) >= 0, "must be three values >= 0"),
        ("panel_order", s.panel_order in ("interleaved", "sequential"), "must be interleaved or sequential"),
        ("n_stars", s.n_stars is None or s.n_stars >= 0, "must be >= 0"),
        ("hint_error_arcmin", 0.0 <= s.hint_error_arcmin <= 600.0, "must be in [0, 600] arcmin"),
        ("real_stars", s.real_stars is None or (isinstance(s.real_stars, str) and s.real_stars.strip() != ""),
         "must be None, 'auto' or an index folder"),
        ("zero_point_mag", math.isfinite(s.zero_point_mag), "must be finite"),
        ("sensor_response", s.sensor_response is None or (len(s.sensor_response) == 3
                                                          and min(s.sensor_response) > 0),
         "must be None or three values > 0 (R, G, B)"),
        ("bad_frame_fraction", 0.0 <= s.bad_frame_fraction <= 1.0, "must be in [0, 1]"),
        ("quality_defects", all(d in weather.QUALITY_DEFECTS for d in s.quality_defects),
         f"must be names from {', '.join(weather.QUALITY_DEFECTS)}"),
    ]
    for name, ok, why in checks:
        if not ok:
            raise SynthSpecError(f"SynthSpec.{name}={getattr(s, name)!r} {why}")
    unknown = [d for d in s.defects if d not in DEFECT_NAMES]
    if unknown:
        raise SynthSpecError(f"SynthSpec.defects: unknown {unknown}; known: {', '.join(DEFECT_NAMES)}")
    try:
        datetime.fromisoformat(s.start_time)
    except ValueError as exc:
        raise SynthSpecError(f"SynthSpec.start_time={s.start_time!r} is not an ISO date-time") from exc


# ------------------------------------------------------------------------------------------------------------------
# private helpers: session geometry and sky conditions


@dataclass(frozen=True, eq=False)
class _FramePlan:
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
class _Session:
    plans: tuple[_FramePlan, ...]
    global_wcs: WCS
    global_shape: tuple[int, int]


def _plan_session(spec: SynthSpec, seed: int) -> _Session:
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
        plans.append(_FramePlan(sequence=k, panel=panel, index_in_panel=idx,
                                time_s=k * (spec.exposure_s + OVERHEAD_S), rotation_deg=float(rotation[k]),
                                dither=(float(dither[k, 0]), float(dither[k, 1])), wcs=wcs_list[k],
                                wcs_cards=cards[k], fwhm_px=float(fwhm[k]), sky=sky, transparency=t,
                                defects=defects + _night_kind(night[k]), quality=night[k]))
    return _Session(plans=tuple(plans), global_wcs=global_wcs, global_shape=global_shape)


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


# ------------------------------------------------------------------------------------------------------------------
# private helpers: the scene (catalogue + nebula)


def _build_scene(spec: SynthSpec, session: _Session, seed: int) -> SkyScene:
    catalogue = _make_catalogue(spec, session.global_wcs, session.global_shape, np.random.default_rng([seed, 2]))
    blobs, waves = _make_nebula(spec, session.global_shape, np.random.default_rng([seed, 3]))
    return SkyScene(global_wcs=session.global_wcs, global_shape=session.global_shape, catalogue=catalogue,
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
    ratio = _bv_to_rgb_ratio(bv)
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


def _bv_to_rgb_ratio(bv: np.ndarray) -> np.ndarray:
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


# ------------------------------------------------------------------------------------------------------------------
# private helpers: star stamps


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


# ------------------------------------------------------------------------------------------------------------------
# private helpers: observing frames


def _frame_signal(scene: SkyScene, plan: _FramePlan, spec: SynthSpec) -> np.ndarray:
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


def _partial_defect(signal: np.ndarray, plan: _FramePlan, q: Mapping[str, Any], shape: tuple[int, int]) -> np.ndarray:
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


def _simulate_raw(scene: SkyScene, plan: _FramePlan, spec: SynthSpec, hot: np.ndarray) -> np.ndarray:
    """uint16 raw frame: GRBG mosaic (or 3 x H x W) + noise + pedestal + hot pixels, clipped to 0..65535."""
    signal = _frame_signal(scene, plan, spec)
    data = mosaic_bayer(signal, BAYER_PATTERN) if spec.bayer else np.moveaxis(signal, -1, 0)
    if spec.noise:
        data = _add_noise(data, spec.gain, spec.read_noise_e, np.random.default_rng([spec.seed, 5, plan.sequence]))
    data = data + np.float32(spec.pedestal_adu)
    if len(hot):
        data[..., hot[:, 0], hot[:, 1]] += hot[:, 2].astype(np.float32)
    return np.clip(np.rint(data), 0, 65535).astype(np.uint16)


def _group_frame(scene: SkyScene, plan: _FramePlan, spec: SynthSpec, layout: str) -> np.ndarray:
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


def _frame_truth(path: Path, plan: _FramePlan, spec: SynthSpec) -> FrameTruth:
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


def _write_bad_files(out: Path, spec: SynthSpec, session: _Session, first_raw: np.ndarray) -> dict[str, Path]:
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


def _write_truth(truth_dir: Path, spec: SynthSpec, session: _Session, scene: SkyScene,
                 frames: Sequence[FrameTruth], bad: Mapping[str, Path], hot: np.ndarray) -> None:
    """truth_sky.fits (rendered in row blocks), catalogue.csv and frames.json."""
    sky = _render_global(scene, block_rows=512)
    header = fits.Header()
    for key, value in _wcs_cards_of(session.global_wcs).items():
        header[key] = value
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
