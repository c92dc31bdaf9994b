"""The frames of the input folder as the Frames tab and the sky map show them, Qt-free.

Rows come from :func:`zemosaic.pipeline.inspect.inspect_frames` (``zemosaic inspect``: time, tile group, quality
measures, decision and reason) or from a run's ``frames.csv``; each is completed from its header with where it
points (:func:`sky_footprint`: the WCS's corners, else the mount's pointing and the optics) and its solve status.
The frames the user unticks are written as a ``frame_exclude`` list (:func:`write_exclude_list`): one name a line,
with the reason as a comment, which the run reads and reports (``rejected_inputs``: excluded by the user).
"""
from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zemosaic.io import fits as fits_io
from zemosaic.solve.hints import hint_from_header

__all__ = ["Footprint", "sky_footprint", "add_footprints", "read_frames_csv", "write_exclude_list",
           "exclude_list_path", "tangent_xy", "SOLVE_STATUS"]

SOLVE_STATUS = {"header": "WCS in header", "hint": "to plate-solve (pointing known)",
                "blind": "to plate-solve (no pointing)", "unreadable": "unreadable"}
"""What a frame's ``solve`` status means (English source strings, context ``Frames``)."""


@dataclass(frozen=True)
class Footprint:
    """Where a frame falls on the sky: its four corners (RA, Dec in degrees) and how they are known."""

    corners: tuple[tuple[float, float], ...]
    solve: str  # a key of SOLVE_STATUS

    @property
    def centre(self) -> tuple[float, float]:
        ra = np.radians([c[0] for c in self.corners])
        mean_ra = math.degrees(math.atan2(np.sin(ra).mean(), np.cos(ra).mean())) % 360.0
        return mean_ra, float(np.mean([c[1] for c in self.corners]))


def sky_footprint(path: str | Path) -> Footprint | None:
    """The frame's footprint from its header: the WCS's corners, else a north-up rectangle around the mount's
    pointing from the pixel scale (``FOCALLEN``/``XPIXSZ``); None when neither is known."""
    try:
        info = fits_io.read_frame_info(Path(path), require_wcs=False)
    except fits_io.FitsInputError:
        return None
    h, w = int(info.shape[0]), int(info.shape[1])
    if info.wcs is not None:
        xs, ys = np.array([0, w - 1, w - 1, 0], float), np.array([0, 0, h - 1, h - 1], float)
        ra, dec = info.wcs.celestial.pixel_to_world_values(xs, ys)
        return Footprint(tuple((float(r), float(d)) for r, d in zip(ra, dec, strict=True)), "header")
    hint = hint_from_header(info.header)
    if hint.ra_deg is None or hint.dec_deg is None or not hint.scale_arcsec:
        return Footprint((), "blind")
    half_w, half_h = w * hint.scale_arcsec / 7200.0, h * hint.scale_arcsec / 7200.0
    cosd = max(math.cos(math.radians(hint.dec_deg)), 1e-3)
    corners = tuple((hint.ra_deg + sx * half_w / cosd, hint.dec_deg + sy * half_h)
                    for sx, sy in ((1, -1), (-1, -1), (-1, 1), (1, 1)))
    return Footprint(corners, "hint")


def add_footprints(rows: Iterable[dict]) -> list[dict]:
    """Copies of ``rows`` (each with a ``path``) with ``footprint`` (a :class:`Footprint` or None) and ``solve``."""
    out = []
    for row in rows:
        fp = sky_footprint(row["path"]) if row.get("path") else None
        out.append({**row, "footprint": fp, "solve": fp.solve if fp is not None else "unreadable"})
    return out


def read_frames_csv(path: str | Path, input_dir: str | Path) -> list[dict]:
    """The rows of a run's ``frames.csv`` (numbers parsed, ``path`` rebuilt from ``input_dir``)."""
    rows = []
    with open(path, newline="", encoding="utf-8") as handle:
        for raw in csv.DictReader(handle):
            row: dict = {}
            for key, text in raw.items():
                row[key] = _number(text) if key not in ("file", "date_obs", "decision", "reason") else (text or None)
            row["path"] = str(Path(input_dir) / str(row["file"]))
            rows.append(row)
    return rows


def _number(text: str | None) -> float | int | None:
    if text is None or text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() and "." not in text else value


def exclude_list_path(folder: str | Path, input_dir: str | Path) -> Path:
    """Where the window keeps the exclusion list of ``input_dir`` (one file per input folder, in ``folder``)."""
    resolved = str(Path(input_dir).resolve())
    digest = hashlib.sha1(resolved.encode("utf-8")).hexdigest()[:12]
    return Path(folder) / f"{Path(resolved).name or 'input'}-{digest}.txt"


def write_exclude_list(path: str | Path, excluded: Mapping[str, str], *, input_dir: str | Path,
                       extra_patterns: Sequence[str] = ()) -> Path:
    """Write the ``frame_exclude`` file: each excluded file name with its reason as a comment, then
    ``extra_patterns`` (those of a list the user named in the settings). Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"# frames of {Path(input_dir).resolve()} never stacked (ZeMosaic window, Frames tab)"]
    lines += [f"{name}  # {reason}" for name, reason in sorted(excluded.items())]
    lines += [p for p in extra_patterns if p not in excluded]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def tangent_xy(radec: Sequence[tuple[float, float]], centre: tuple[float, float]) -> np.ndarray:
    """Gnomonic projection (degrees on the tangent plane, x towards the east, y north) about ``centre``."""
    a = np.radians(np.asarray(radec, float).reshape(-1, 2))
    ra0, dec0 = math.radians(centre[0]), math.radians(centre[1])
    dra = a[:, 0] - ra0
    cos_c = np.sin(dec0) * np.sin(a[:, 1]) + np.cos(dec0) * np.cos(a[:, 1]) * np.cos(dra)
    x = np.cos(a[:, 1]) * np.sin(dra) / cos_c
    y = (np.cos(dec0) * np.sin(a[:, 1]) - np.sin(dec0) * np.cos(a[:, 1]) * np.cos(dra)) / cos_c
    return np.degrees(np.column_stack([x, y]))
