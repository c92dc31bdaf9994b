"""Standard FITS header facts of a product (master tile or mosaic): what the frames used say, summed or agreed.

Siril, PixInsight, DS9 and astropy read a stack's provenance from a few conventional keywords; a product written by
ZeMosaic carries them, built here once for both writers:

* ``EXPTIME`` and ``LIVETIME``: total integration (seconds) of the frames used (Siril writes the same for a stack);
* ``NCOMBINE`` and ``STACKCNT``: number of frames used;
* ``DATE-OBS``: start of the earliest frame; ``DATE-END``: end of the latest frame (its ``DATE-END``, else its
  ``DATE-OBS`` + ``EXPTIME``);
* ``OBJECT``, ``INSTRUME``, ``TELESCOP``, ``FILTER``, ``FOCALLEN``, ``XPIXSZ``, ``YPIXSZ``: copied when every input
  that has the keyword agrees (a keyword the inputs disagree on is left out, not guessed);
* ``BUNIT``, ``SOFTWARE`` / ``CREATOR`` (``ZeMosaic <version>``) and one ``HISTORY`` line per phase.

A master tile's facts come from its frames' headers (:func:`facts_from_frames`); the mosaic's from its master tiles'
headers (:func:`facts_from_products`: sums of the tiles' totals), so a mosaic built from existing master tiles
carries them too.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from astropy.io import fits

from zemosaic._version import __version__
from zemosaic.io import fits as fits_io
from zemosaic.io.keywords import fits_date

__all__ = [
    "AGREED_TEXT_KEYS",
    "AGREED_NUMBER_KEYS",
    "ObservationFacts",
    "facts_from_frames",
    "facts_from_products",
    "read_primary_headers",
    "product_header",
    "software_name",
    "tile_history",
    "mosaic_history",
]

AGREED_TEXT_KEYS = ("OBJECT", "INSTRUME", "TELESCOP", "FILTER")
"""Text keywords copied when the inputs agree."""
AGREED_NUMBER_KEYS = ("FOCALLEN", "XPIXSZ", "YPIXSZ")
"""Numeric keywords copied when the inputs agree (to 1e-6 relative)."""
_COMMENTS = {
    "OBJECT": "target (agreed by the inputs)",
    "INSTRUME": "camera (agreed by the inputs)",
    "TELESCOP": "telescope (agreed by the inputs)",
    "FILTER": "filter (agreed by the inputs)",
    "FOCALLEN": "[mm] focal length (agreed by the inputs)",
    "XPIXSZ": "[um] pixel width (agreed by the inputs)",
    "YPIXSZ": "[um] pixel height (agreed by the inputs)",
}


@dataclass(frozen=True)
class ObservationFacts:
    """What the inputs of a product say about the observation.

    Attributes
    ----------
    n_frames : int
        Frames used.
    exposure_s : float or None
        Total integration of the frames used (seconds); None when no input gives an exposure.
    date_obs, date_end : str or None
        ISO 8601 UTC start of the earliest frame and end of the latest (``YYYY-MM-DDThh:mm:ss.sss``).
    agreed : dict
        Keyword -> value for the keywords of :data:`AGREED_TEXT_KEYS` / :data:`AGREED_NUMBER_KEYS` that every input
        having them agrees on.
    """

    n_frames: int
    exposure_s: float | None = None
    date_obs: str | None = None
    date_end: str | None = None
    agreed: dict = field(default_factory=dict)


def software_name() -> str:
    """``ZeMosaic <version>``."""
    return f"ZeMosaic {__version__}"


def facts_from_frames(headers: Sequence[fits.Header]) -> ObservationFacts:
    """Facts of a stack from the headers of the frames used (one header per frame).

    ``EXPTIME`` (else ``EXPOSURE``) is summed; the start is ``DATE-OBS``, the end ``DATE-END`` or start + exposure.
    """
    exposures = [_exposure(h) for h in headers]
    starts = [fits_date(h.get("DATE-OBS")) for h in headers]
    ends = [fits_date(h.get("DATE-END")) for h in headers]
    for k, (start, end, exposure) in enumerate(zip(starts, ends, exposures, strict=True)):
        if end is None and start is not None:
            ends[k] = start + timedelta(seconds=exposure or 0.0)
    known = [e for e in exposures if e is not None]
    return ObservationFacts(
        n_frames=len(headers),
        exposure_s=float(sum(known)) if known else None,
        date_obs=_iso(min((s for s in starts if s is not None), default=None)),
        date_end=_iso(max((e for e in ends if e is not None), default=None)),
        agreed=_agreed(headers),
    )


def facts_from_products(headers: Sequence[fits.Header]) -> ObservationFacts:
    """Facts of a mosaic from the headers of its master tiles: frames and integration summed (``NCOMBINE``, else
    ``NFRAMES``, else 1; ``EXPTIME``), earliest ``DATE-OBS``, latest ``DATE-END``, agreed keywords."""
    n_frames = 0
    exposures = []
    for h in headers:
        count = h.get("NCOMBINE", h.get("NFRAMES", 1))
        n_frames += int(count) if isinstance(count, (int, float)) and not isinstance(count, bool) else 1
        exposures.append(_exposure(h))
    starts = [d for d in (fits_date(h.get("DATE-OBS")) for h in headers) if d is not None]
    ends = [d for d in (fits_date(h.get("DATE-END")) for h in headers) if d is not None]
    known = [e for e in exposures if e is not None]
    return ObservationFacts(
        n_frames=n_frames,
        exposure_s=float(sum(known)) if known else None,
        date_obs=_iso(min(starts, default=None)),
        date_end=_iso(max(ends, default=None)),
        agreed=_agreed(headers),
    )


def read_primary_headers(paths: Iterable[str | os.PathLike]) -> list[fits.Header]:
    """The header of each file's image HDU (the primary, else the first image extension, as the readers take it);
    headers only, no pixels."""
    return [fits_io.read_image_header(p) for p in paths]


def product_header(facts: ObservationFacts, *, bunit: str, history: Sequence[str] = (),
                   bunit_comment: str = "pixel unit") -> fits.Header:
    """The standard keywords of a product, ready for ``write_fits_image(header_extra=...)``.

    Parameters
    ----------
    facts : ObservationFacts
    bunit : str
        ``BUNIT`` (``'ADU'``, or ``''`` for a dimensionless, rescaled image).
    history : sequence of str
        One ``HISTORY`` line per phase (a line longer than a card continues on the next ``HISTORY`` card).
    bunit_comment : str
        Comment of ``BUNIT``.
    """
    header = fits.Header()
    header["BUNIT"] = (bunit, bunit_comment)
    header["NCOMBINE"] = (int(facts.n_frames), "number of frames combined")
    header["STACKCNT"] = (int(facts.n_frames), "number of frames stacked")
    if facts.exposure_s is not None:
        header["EXPTIME"] = (round(facts.exposure_s, 6), "[s] total integration of the frames used")
        header["LIVETIME"] = (round(facts.exposure_s, 6), "[s] total integration of the frames used")
    if facts.date_obs is not None:
        header["DATE-OBS"] = (facts.date_obs, "UTC start of the earliest frame")
    if facts.date_end is not None:
        header["DATE-END"] = (facts.date_end, "UTC end of the latest frame")
    for key in AGREED_TEXT_KEYS + AGREED_NUMBER_KEYS:
        if key in facts.agreed:
            header[key] = (facts.agreed[key], _COMMENTS[key])
    header["SOFTWARE"] = (software_name(), "software that wrote this file")
    header["CREATOR"] = (software_name(), "software that wrote this file")
    for line in history:
        header.add_history(line)
    return header


def tile_history(cfg) -> list[str]:
    """``HISTORY`` lines (72 characters at most: one card each) for the phases that shape a master tile (Phases 1
    to 3), with their key settings (``cfg`` a :class:`zemosaic.config.ZeMosaicConfig`)."""
    return [
        f"Phase 1 scan: wcs_source={cfg.wcs_source} plate_solver={cfg.plate_solver}",
        f"Phase 2 cluster: fov_frac={cfg.cluster_threshold_fov_frac:g} max_frames={cfg.max_frames_per_tile}",
        f"Phase 3 align: debayer={cfg.debayer_method} sigma={cfg.align_detection_sigma:g} "
        f"points={cfg.align_max_control_points}",
        f"Phase 3 stack: norm={cfg.stack_normalize_method} weight={cfg.stack_weighting_method}",
        f"Phase 3 reject: {cfg.stack_rejection_algorithm} {cfg.stack_sigma_low:g}/{cfg.stack_sigma_high:g} "
        f"combine={cfg.stack_final_combine}",
        f"Phase 3 cleanup: altaz={cfg.altaz_cleanup_enabled} coverage={cfg.altaz_use_coverage} "
        f"crop={cfg.quality_crop_enabled} trim={cfg.mt_edge_trim_enabled}",
    ]


def mosaic_history(cfg, *, from_existing_tiles: bool, output_scale: str, fill_value: float) -> list[str]:
    """One ``HISTORY`` line per phase of the mosaic (Phases 1 to 3 as :func:`tile_history`, or one line saying the
    master tiles were given, then Phases 4 to 6) with its key settings."""
    first = (["Phases 1-3 skipped: existing master tiles given as input"] if from_existing_tiles
             else tile_history(cfg))
    return first + [
        "Phase 4 grid: optimal celestial WCS over the master tiles",
        f"Phase 4.5 harmony: enabled={cfg.harmonize_enabled} plane={cfg.harmonize_plane}",
        f"Phase 5 assembly: reproject={cfg.assembly_reproject} tile_weight={cfg.assembly_tile_weight}",
        f"Phase 5.5 sky: mosaic_background={cfg.mosaic_background}"
        + ("" if cfg.mosaic_background == "none" else " (model in BACKGROUND)"),
        f"Phase 6 outputs: output_scale={output_scale} fill_value={fill_value:g}",
    ]


# ------------------------------------------------------------------------------------------------------------------
# private helpers

def _exposure(header: fits.Header) -> float | None:
    for key in ("EXPTIME", "EXPOSURE"):
        value = header.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            return float(value)
    return None


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="milliseconds")


def _agreed(headers: Sequence[fits.Header]) -> dict:
    agreed: dict = {}
    for key in AGREED_TEXT_KEYS:
        values = {str(h[key]).strip() for h in headers if key in h and str(h[key]).strip()}
        if len(values) == 1:
            agreed[key] = values.pop()
    for key in AGREED_NUMBER_KEYS:
        numbers = [float(h[key]) for h in headers
                   if isinstance(h.get(key), (int, float)) and not isinstance(h.get(key), bool)]
        if numbers and max(numbers) - min(numbers) <= 1e-6 * max(abs(max(numbers)), 1e-12):
            agreed[key] = numbers[0]
    return agreed
