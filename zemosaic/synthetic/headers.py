"""Seestar-like FITS headers of the synthetic frames: file names, times, the WCS cards or only the mount's hints.

Split from :mod:`zemosaic.synthetic.generator`, which decides what each frame shows; this module writes what a
Seestar S50 would write about it: ``DATE-OBS``, ``EXPTIME``, ``FOCALLEN`` / ``XPIXSZ``, ``BAYERPAT``, ``EQMODE``, and
either a TAN WCS (``header_wcs=True``) or, as a real Seestar does, only its pointing hints ``RA``/``DEC`` and
``OBJCTRA``/``OBJCTDEC`` (possibly a few arcmin off, or one target for every panel).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

__all__ = ["BAYER_PATTERN", "OVERHEAD_S", "frame_header", "frame_name", "frame_time", "tan_cards", "tan_wcs"]

BAYER_PATTERN = "GRBG"
OVERHEAD_S = 2.0  # seconds between two exposures (download, dither)
_PIXEL_SIZE_UM = 2.9  # Seestar S50 sensor (IMX462)
_SEESTAR_GAIN_SETTING = 80
_SEESTAR_CREATOR = "ZWO Seestar S50"


class SessionFacts(Protocol):
    """What the headers read of a dataset's spec (a :class:`~zemosaic.synthetic.spec.SynthSpec` has it all):
    the generator imports this module, so it describes the spec instead of importing it (read-only, as the frozen
    spec's fields are)."""

    @property
    def target(self) -> str: ...
    @property
    def start_time(self) -> str: ...
    @property
    def exposure_s(self) -> float: ...
    @property
    def gain(self) -> float: ...
    @property
    def pixel_scale_arcsec(self) -> float: ...
    @property
    def mount(self) -> str: ...
    @property
    def pedestal_adu(self) -> float: ...
    @property
    def bayer(self) -> bool: ...
    @property
    def header_wcs(self) -> bool: ...
    @property
    def hint_same_for_all(self) -> bool: ...
    @property
    def hint_error_arcmin(self) -> float: ...
    @property
    def ra_deg(self) -> float: ...
    @property
    def dec_deg(self) -> float: ...
    @property
    def seed(self) -> int: ...


class FrameFacts(Protocol):
    """What the headers read of one planned frame: its place in the session and its true WCS cards."""

    @property
    def sequence(self) -> int: ...
    @property
    def wcs_cards(self) -> dict: ...


def tan_cards(ra: float, dec: float, crpix0: tuple[float, float], scale_deg: float, rot_deg: float) -> dict:
    """Header cards of a TAN WCS with an explicit CD matrix (``crpix0`` is 0-based)."""
    c, s = math.cos(math.radians(rot_deg)), math.sin(math.radians(rot_deg))
    return {"WCSAXES": 2, "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CUNIT1": "deg", "CUNIT2": "deg",
            "CRVAL1": ra, "CRVAL2": dec, "CRPIX1": crpix0[0] + 1.0, "CRPIX2": crpix0[1] + 1.0,
            "CD1_1": -scale_deg * c + 0.0, "CD1_2": -scale_deg * s + 0.0, "CD2_1": -scale_deg * s + 0.0,
            "CD2_2": scale_deg * c + 0.0,  # + 0.0 turns -0.0 into 0.0
            "RADESYS": "ICRS", "EQUINOX": 2000.0}


def tan_wcs(cards: Mapping[str, Any]) -> WCS:
    header = fits.Header()
    for key, value in cards.items():
        header[key] = value
    return WCS(header)


def frame_time(spec: SessionFacts, sequence: int) -> datetime:
    return datetime.fromisoformat(spec.start_time) + timedelta(seconds=sequence * (spec.exposure_s + OVERHEAD_S))


def _mjd(when: datetime) -> float:
    return 51544.5 + (when - datetime(2000, 1, 1, 12, 0, 0)).total_seconds() / 86400.0


def frame_name(spec: SessionFacts, sequence: int) -> str:
    stamp = frame_time(spec, sequence).strftime("%Y%m%d-%H%M%S")
    return f"Light_{spec.target}_{spec.exposure_s:.1f}s_IRCUT_{stamp}.fit"


def frame_header(spec: SessionFacts, plan: FrameFacts) -> fits.Header:
    hdr = fits.Header()
    hdr["OBJECT"] = spec.target
    hdr["INSTRUME"] = ("Seestar S50", "synthetic Seestar-like frame")
    hdr["TELESCOP"] = "Seestar S50"
    start = frame_time(spec, plan.sequence)
    hdr["DATE-OBS"] = (start.isoformat(timespec="milliseconds"), "start of exposure (UTC)")
    hdr["MJD-OBS"] = (round(_mjd(start), 8), "start of exposure")
    hdr["EXPTIME"] = (spec.exposure_s, "seconds")
    hdr["EXPOSURE"] = (spec.exposure_s, "seconds")
    hdr["FILTER"] = "IRCUT"
    hdr["GAIN"] = (_SEESTAR_GAIN_SETTING, "camera gain setting")
    hdr["EGAIN"] = (spec.gain, "electrons per ADU")
    hdr["XPIXSZ"] = _PIXEL_SIZE_UM
    hdr["YPIXSZ"] = _PIXEL_SIZE_UM
    hdr["FOCALLEN"] = (round(206.264806 * _PIXEL_SIZE_UM / spec.pixel_scale_arcsec, 1), "mm")
    hdr["EQMODE"] = (1 if spec.mount == "equatorial" else 0, "1 equatorial, 0 Alt-Az")
    hdr["PEDESTAL"] = (spec.pedestal_adu, "ADU offset added to the data")
    if spec.bayer:
        hdr["BAYERPAT"] = BAYER_PATTERN
        hdr["XBAYROFF"] = 0
        hdr["YBAYROFF"] = 0
    ra, dec = _hint_radec(spec, plan)
    hdr["RA"] = (ra, "pointing RA, degrees")
    hdr["DEC"] = (dec, "pointing Dec, degrees")
    if spec.header_wcs:
        for key, value in plan.wcs_cards.items():
            hdr[key] = value
        hdr["CREATOR"] = "ZeMosaic synthetic generator"
        return hdr
    hdr["OBJCTRA"] = (_sexagesimal(ra / 15.0, signed=False), "target RA, hours (h m s)")
    hdr["OBJCTDEC"] = (_sexagesimal(dec, signed=True), "target Dec, degrees (d m s)")
    hdr["XBINNING"] = 1
    hdr["YBINNING"] = 1
    hdr["IMAGETYP"] = "Light"
    hdr["STACKCNT"] = (1, "frames in this file")
    hdr["CREATOR"] = _SEESTAR_CREATOR
    return hdr


def _hint_radec(spec: SessionFacts, plan: FrameFacts) -> tuple[float, float]:
    """The header's pointing hint: the true frame centre (or, mosaic-mode, the scene centre), moved by the error."""
    if spec.hint_same_for_all:
        ra, dec, rng = spec.ra_deg, spec.dec_deg, np.random.default_rng([spec.seed, 8])
    else:
        ra, dec = plan.wcs_cards["CRVAL1"], plan.wcs_cards["CRVAL2"]
        rng = np.random.default_rng([spec.seed, 8, plan.sequence])
    if spec.hint_error_arcmin <= 0:
        return ra, dec
    size = spec.hint_error_arcmin / 60.0 * rng.uniform(0.5, 1.0)
    angle = rng.uniform(0.0, 2.0 * math.pi)
    wcs = tan_wcs(tan_cards(ra, dec, (0.0, 0.0), 1.0 / 3600.0, 0.0))  # 1"/px tangent plane at the true centre
    hra, hdec = wcs.wcs_pix2world([[size * 3600.0 * math.cos(angle), size * 3600.0 * math.sin(angle)]], 0)[0]
    return float(hra) % 360.0, float(hdec)


def _sexagesimal(value: float, *, signed: bool) -> str:
    """``'HH MM SS.ss'`` / ``'+DD MM SS.s'`` as Seestar writes OBJCTRA / OBJCTDEC."""
    sign = "-" if value < 0 else ("+" if signed else "")
    places = 1 if signed else 2
    total = round(abs(value) * 3600.0, places)
    whole, sec = divmod(total, 60.0)
    deg, minutes = divmod(int(round(whole)), 60)
    if not signed:
        deg %= 24
    return f"{sign}{deg:02d} {minutes:02d} {sec:0{3 + places}.{places}f}"
