"""Pointing and pixel-scale hints from a frame's header, for frames that carry no WCS.

A Seestar sub-frame records where the mount pointed and the optics, but no WCS::

    RA = 118.87917 / degrees   DEC = -0.5 / degrees   FOCALLEN = 250   XPIXSZ = 2.9   (XBINNING = 1)

Pointing: ``RA``/``DEC`` in degrees, else ``OBJCTRA``/``OBJCTDEC`` as sexagesimal text (``"07 55 31.0"``,
``"-00 30 00"``; hours for RA). Scale: ``206.264806 * XPIXSZ[um] * XBINNING / FOCALLEN[mm]`` arcsec per pixel
(2.39"/px for a Seestar S50), else ``PIXSCALE``/``SCALE`` in arcsec, else the caller's default. The mount's
pointing is only a hint (a few arcmin off, or the mosaic's target for every panel): it narrows a plate
solve, it never becomes a WCS by itself.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["PointingHint", "hint_from_header", "parse_ra_text", "parse_dec_text"]

_ARCSEC_PER_RAD = 206264.806


@dataclass(frozen=True)
class PointingHint:
    """What a header says about where a frame points; any part may be unknown (None).

    ``ra_deg``/``dec_deg``: the pointing; ``scale_arcsec``: arcsec per (binned) pixel; ``source`` names the
    keywords used, for the run report (e.g. ``"RA/DEC + FOCALLEN/XPIXSZ"``).
    """

    ra_deg: float | None
    dec_deg: float | None
    scale_arcsec: float | None
    source: str

    @property
    def has_position(self) -> bool:
        """Whether the pointing is known (a hint-assisted solve is possible)."""
        return self.ra_deg is not None and self.dec_deg is not None


def hint_from_header(header: Mapping, *, default_scale_arcsec: float | None = None) -> PointingHint:
    """Read the pointing and pixel-scale hints of a header (see the module docstring for the keywords).

    ``default_scale_arcsec`` is used when the header gives no scale. Values that do not parse, or are out of
    range, count as absent.
    """
    ra, dec, where = _position(header)
    scale, scale_from = _scale(header)
    if scale is None and default_scale_arcsec:
        scale, scale_from = float(default_scale_arcsec), "config"
    parts = [p for p in (where, scale_from) if p]
    return PointingHint(ra, dec, scale, " + ".join(parts) or "none")


def parse_ra_text(text: str) -> float:
    """Right ascension in degrees from ``"HH MM SS.s"`` / ``"HH:MM:SS.s"`` / ``"12h30m00s"`` (hours), or a plain
    number of degrees. Raises ValueError on anything else."""
    parts = _sexagesimal_parts(text)
    if len(parts) == 1:
        return float(parts[0]) % 360.0
    hours = _combine(parts)
    if not 0.0 <= hours < 24.0:
        raise ValueError(f"RA {text!r} is not within 0-24 h")
    return hours * 15.0


def parse_dec_text(text: str) -> float:
    """Declination in degrees from ``"+DD MM SS.s"`` / ``"-DD:MM:SS"`` / ``"-12d30m00s"`` or a plain number."""
    parts = _sexagesimal_parts(text)
    value = float(parts[0]) if len(parts) == 1 else _combine(parts)
    if not -90.0 <= value <= 90.0:
        raise ValueError(f"Dec {text!r} is not within -90..+90 degrees")
    return value


def _position(header: Mapping) -> tuple[float | None, float | None, str | None]:
    ra, dec = _number(header, "RA"), _number(header, "DEC")
    if ra is not None and dec is not None and -90.0 <= dec <= 90.0:
        return ra % 360.0, dec, "RA/DEC"
    try:
        ra_text, dec_text = header.get("OBJCTRA"), header.get("OBJCTDEC")
        if ra_text is not None and dec_text is not None:
            return parse_ra_text(str(ra_text)), parse_dec_text(str(dec_text)), "OBJCTRA/OBJCTDEC"
    except ValueError:
        pass  # unparsable text counts as no hint; the caller reports the frame as unhinted
    return None, None, None


def _scale(header: Mapping) -> tuple[float | None, str | None]:
    focal, pixel = _number(header, "FOCALLEN"), _number(header, "XPIXSZ")
    binning = _number(header, "XBINNING") or 1.0
    if focal and pixel and focal > 0 and pixel > 0 and binning > 0:
        return _ARCSEC_PER_RAD * pixel * 1e-3 * binning / focal, "FOCALLEN/XPIXSZ"
    for key in ("PIXSCALE", "SCALE", "SECPIX"):
        value = _number(header, key)
        if value and value > 0:
            return value, key
    return None, None


def _number(header: Mapping, key: str) -> float | None:
    value = header.get(key)
    if isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _sexagesimal_parts(text: str) -> list[str]:
    cleaned = re.sub(r"[hdms:'\"°]", " ", str(text).strip().lower())
    parts = cleaned.split()
    if not 1 <= len(parts) <= 3:
        raise ValueError(f"cannot read {text!r} as an angle")
    return parts


def _combine(parts: list[str]) -> float:
    sign = -1.0 if parts[0].startswith("-") else 1.0
    values = [abs(float(p)) for p in parts]
    if any(v >= 60.0 for v in values[1:]):
        raise ValueError(f"minutes/seconds out of range in {' '.join(parts)!r}")
    return sign * (values[0] + sum(v / 60.0 ** (i + 1) for i, v in enumerate(values[1:])))
