"""Header keywords we use whose value is unparsable or impossible: each said once, with what is done instead.

A damaged keyword must not change a product silently (``EXPTIME = 'ten'`` counted as 0 s, a tile saying NCOMBINE 8
but EXPTIME 70 s; an impossible ``DATE-OBS`` dropped without a word). :func:`keyword_problems` reads the keywords
the pipeline uses and returns one line per problem, naming the keyword, its value as written and the fallback;
the scan logs them once per file and lists them in the run report (``input_files[].header_problems``). It changes
no decision: the readers already fall back as each line says.

Checked: ``EXPTIME``/``EXPOSURE`` (a number >= 0), ``DATE-OBS`` (an ISO date and time that exists), and for a frame
without a WCS the hint keywords ``RA``/``DEC`` (degrees, Dec within +-90) and ``FOCALLEN``/``XPIXSZ`` (numbers > 0);
``BAYERPAT`` on a frame that already has three colour planes.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime

__all__ = ["keyword_problems", "fits_date"]


def keyword_problems(header: Mapping, *, colour_planes: bool, has_wcs: bool) -> list[str]:
    """One line per keyword of ``header`` we use whose value cannot be used, with what is done instead."""
    problems = [*_exposure_problem(header), *_date_problem(header)]
    if not has_wcs:
        problems += _hint_problems(header)
    bayer = header.get("BAYERPAT")
    if colour_planes and bayer is not None and str(bayer).strip().upper() not in ("", "NONE"):
        problems.append(f"BAYERPAT = {bayer!r} on a frame of 3 colour planes: ignored (the planes are read as R, G, "
                        "B; no debayering)")
    return problems


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _seconds(value) -> bool:
    """Whether the products' reader takes ``value`` as an exposure: a FITS number (not text), finite, >= 0."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


def _exposure_problem(header: Mapping) -> list[str]:
    found = [(key, header[key]) for key in ("EXPTIME", "EXPOSURE") if key in header and header[key] is not None]
    usable = [(key, v) for key, v in found if _seconds(v)]
    bad = [(key, v) for key, v in found if (key, v) not in usable]
    if not bad:
        return []
    key, value = bad[0]
    if usable:
        other, seconds = usable[0]
        return [f"{key} = {value!r} is not a FITS number of seconds >= 0: {other} = {seconds!r} used instead"]
    return [f"{key} = {value!r} is not a FITS number of seconds >= 0: exposure unknown, left out of the integration "
            "time (EXPTIME) of the products"]


def _date_problem(header: Mapping) -> list[str]:
    value = header.get("DATE-OBS")
    if value is None or not str(value).strip():
        return []
    if fits_date(value) is None:
        return [f"DATE-OBS = {value!r} is not a date and time that exists (ISO 8601): start time unknown (left out "
                "of the products' DATE-OBS/DATE-END)"]
    return []


def _hint_problems(header: Mapping) -> list[str]:
    problems = []
    ra, dec = header.get("RA"), header.get("DEC")
    if ra is not None or dec is not None:
        ra_n, dec_n = _number(ra), _number(dec)
        if ra_n is None or dec_n is None or not -90.0 <= dec_n <= 90.0:
            problems.append(f"RA = {ra!r}, DEC = {dec!r} is not a position in degrees (Dec within +-90): no "
                            "pointing hint from them (OBJCTRA/OBJCTDEC if present, else a blind plate solve)")
    for key in ("FOCALLEN", "XPIXSZ"):
        value = header.get(key)
        number = _number(value)
        if value is not None and (number is None or number <= 0):
            problems.append(f"{key} = {value!r} is not a number > 0: no pixel scale from the optics (PIXSCALE/SCALE "
                            "if present, else hint_pixel_scale_arcsec, else a wide scale search)")
    return problems


def fits_date(value) -> datetime | None:
    """A FITS date (``YYYY-MM-DD[Thh:mm:ss[.s...]]``, optional ``Z``) as a naive UTC datetime, or None (the one
    reading of DATE-OBS / DATE-END: the frames' checks here and the products' headers, :mod:`zemosaic.io.headers`)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().rstrip("Z")
    if "." in text:  # Python 3.10's fromisoformat takes 3 or 6 fractional digits only
        main, frac = text.split(".", 1)
        text = f"{main}.{(frac + '000000')[:6]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=None)
