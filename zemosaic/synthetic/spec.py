"""What a synthetic Seestar session is made of (:class:`SynthSpec`): geometry, mount, sky, stars, nebula, noise,
defects and the night's weather, checked when it is built; the defects and sensor constants it names.

The generator (:mod:`zemosaic.synthetic.generator`) observes a scene (:mod:`zemosaic.synthetic.scene`) through the
session this spec plans (:mod:`zemosaic.synthetic.session`).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import datetime

from zemosaic.synthetic import weather

__all__ = ["DEFECT_NAMES", "MOUNT_MODES", "SENSOR_S50", "REAL_STAR_ZERO_POINT", "SynthSpecError", "SynthSpec"]


DEFECT_NAMES = ("hot_pixels", "satellite_trail", "cloudy_frame", "starless_frame", "truncated_file", "not_fits",
                "no_wcs", "all_nan", "wrong_size")


MOUNT_MODES = ("altaz", "equatorial")


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
