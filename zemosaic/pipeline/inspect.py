"""``zemosaic inspect IN``: every frame's quality measures and the gate's decision, without stacking anything.

The same measures and rules as a run (:mod:`zemosaic.quality`), on a fast path: each frame is read once at half
resolution without debayering (:func:`zemosaic.io.fits.read_luminance`, 2 x 2 sums: a Bayer cell's R + 2G + B),
its stars are detected and measured there, frames are grouped as Phase 2 groups them (WCS centre, else the
header's pointing), and each frame is related to its group's reference through the WCSs (refined on the matched
stars), or by astroalign's triangle matching when a frame has no WCS. Lengths are then given in full-resolution
pixels; transparency and weights are relative within a group, as in a run. A user can choose the limits before a
long run: ``zemosaic inspect IN --set frame_reject_fwhm_k=2``.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zemosaic.align.stars import detect_stars_with_sky
from zemosaic.align.transform import fit_similarity, refine_similarity
from zemosaic.config import ZeMosaicConfig, as_config
from zemosaic.io import fits as fits_io
from zemosaic.pipeline.clustering import cluster_frames
from zemosaic.progress import ProgressCallback, emit
from zemosaic.quality.group import (
    QualitySettings,
    decide_group,
    group_cell_px,
    is_excluded,
    read_exclude_list,
    relate_to_reference,
)
from zemosaic.quality.measures import FrameQuality, StarMeasures, measure_frame, measure_stars
from zemosaic.solve.hints import hint_from_header

__all__ = ["InspectResult", "inspect_frames", "format_table"]

log = logging.getLogger(__name__)

_BIN = 2


@dataclass
class InspectResult:
    """Per frame (time order) a row: ``file``, ``date_obs``, ``tile_id`` and the :class:`FrameQuality` fields;
    ``unreadable`` lists the files that could not be read, with the reason; ``seconds`` the wall time."""

    rows: list[dict]
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    exclude: dict | None = None


@dataclass(frozen=True)
class _Frame:  # what clustering reads of a frame (a stand-in for fits_io.FrameInfo)
    path: Path
    shape: tuple[int, int]
    mount_mode: str | None
    date_obs: str | None
    center_radec: tuple[float, float]
    pixel_scale_arcsec: float
    wcs: Any


def inspect_frames(input_dir: str | Path, config: ZeMosaicConfig | dict | None = None, *,
                   progress_callback: ProgressCallback | None = None) -> InspectResult:
    """Measure and judge every FITS frame of ``input_dir`` (not its subfolders) as a run would, without stacking.

    The ``frame_*`` settings of ``config`` apply (rules, limits, ``frame_exclude``). Nothing is written.

    Raises
    ------
    FileNotFoundError
        ``input_dir`` is not a folder.
    """
    t0 = time.perf_counter()
    cfg = as_config(config)
    folder = Path(input_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder")
    patterns = read_exclude_list(cfg.frame_exclude) if cfg.frame_exclude else []
    frames, unreadable = _scan(sorted(p for p in folder.iterdir() if p.suffix.lower() in (".fit", ".fits", ".fts")))
    measured: dict[Path, tuple[FrameQuality, StarMeasures]] = {}
    for i, f in enumerate(frames):
        try:
            measured[f.path] = _measure(f.path, cfg)
        except fits_io.FitsInputError as exc:
            unreadable.append((str(f.path), exc.reason_for(f.path)))
        emit(progress_callback, "inspect", i + 1, len(frames), f.path.name)
    frames = [f for f in frames if f.path in measured]
    rows = []
    for tile_id, members in enumerate(_groups(frames, cfg)):
        rows += _judge_group([frames[i] for i in members], measured, cfg, patterns, tile_id)
    rows.sort(key=lambda r: (str(r["date_obs"]), r["file"]))
    exclude = {"frame_exclude": cfg.frame_exclude, "patterns": patterns} if cfg.frame_exclude else None
    return InspectResult(rows, unreadable, round(time.perf_counter() - t0, 3), exclude)


def _scan(paths: Sequence[Path]) -> tuple[list[_Frame], list[tuple[str, str]]]:
    frames, bad = [], []
    for path in paths:
        try:
            info = fits_io.read_frame_info(path, require_wcs=False)
        except fits_io.FitsInputError as exc:
            bad.append((str(path), exc.reason_for(path)))
            continue
        if info.wcs is not None:
            centre, scale = info.center_radec, info.pixel_scale_arcsec
        else:
            hint = hint_from_header(info.header)
            if hint.ra_deg is None or hint.dec_deg is None:
                centre, scale = (0.0, 0.0), float(hint.scale_arcsec or 1.0)
            else:
                centre, scale = (hint.ra_deg, hint.dec_deg), float(hint.scale_arcsec or 1.0)
        shape = (int(info.shape[0]), int(info.shape[1]))
        frames.append(_Frame(path, shape, info.mount_mode, info.date_obs, centre, scale, info.wcs))
    return frames, bad


def _measure(path: Path, cfg: ZeMosaicConfig) -> tuple[FrameQuality, StarMeasures]:
    plane = fits_io.read_luminance(path, binning=_BIN)
    detection = detect_stars_with_sky(plane, cfg.align_detection_sigma, max(1, cfg.align_min_area // 2))
    stars = measure_stars(detection, max_stars=400)
    return measure_frame(detection, stars, binning=_BIN), stars


def _groups(frames: Sequence[_Frame], cfg: ZeMosaicConfig) -> list[list[int]]:
    groups = cluster_frames(frames, threshold_fov_frac=cfg.cluster_threshold_fov_frac,
                            split_by_mount=cfg.split_by_mount_mode, max_frames=cfg.max_frames_per_tile)
    return [[g.reference] + [m for m in g.members if m != g.reference] for g in groups]


def _judge_group(frames: Sequence[_Frame], measured, cfg: ZeMosaicConfig, patterns: Sequence[str],
                 tile_id: int) -> list[dict]:
    """Relate the group's frames to its reference (slot 0), then the gate's decisions (nothing protected)."""
    ref_frame = frames[0]
    ref_stars = measured[ref_frame.path][1]
    shape = (ref_frame.shape[0] // _BIN, ref_frame.shape[1] // _BIN)
    cell = _BIN * group_cell_px(ref_stars, shape, max(1, int(cfg.frame_quality_cell_px) // _BIN))
    qualities = []
    for f in frames:
        q, stars = measured[f.path]
        matrix = np.eye(3) if f is ref_frame else _to_reference(f, ref_frame, stars, ref_stars)
        q.cell_px = cell
        if matrix is not None:
            q.transparency, q.matched_stars, q.local_transparency = relate_to_reference(
                stars, ref_stars, matrix, shape, max(1, cell // _BIN))
        qualities.append(q)
    excluded = [is_excluded(f.path, patterns) for f in frames]
    decide_group(qualities, [f.path.name for f in frames], QualitySettings.from_config(cfg), excluded=excluded,
                 protect=None)
    return [{"file": f.path.name, "path": str(f.path), "date_obs": f.date_obs, "tile_id": tile_id, **q.as_dict()}
            for f, q in zip(frames, qualities, strict=True)]


def _to_reference(frame: _Frame, ref: _Frame, stars: StarMeasures, ref_stars: StarMeasures) -> np.ndarray | None:
    """The binned frame -> binned reference transform: through the WCSs, refined on the stars; else astroalign."""
    if len(stars) < 3 or len(ref_stars) < 3:
        return None
    guess = _wcs_guess(frame, ref, stars) if frame.wcs is not None and ref.wcs is not None else _triangles(
        stars, ref_stars)
    if guess is None:
        return None
    transform, n = refine_similarity(stars.xy, ref_stars.xy, guess)
    return transform.matrix if n >= 4 else None


def _wcs_guess(frame: _Frame, ref: _Frame, stars: StarMeasures) -> np.ndarray | None:
    """The similarity through the WCSs, fitted on a few binned star positions."""
    xy = stars.xy[:50]
    full = xy * _BIN + (_BIN - 1) / 2.0
    sky = frame.wcs.pixel_to_world_values(full[:, 0], full[:, 1])
    rx, ry = ref.wcs.world_to_pixel_values(sky[0], sky[1])
    dst = (np.column_stack([rx, ry]) - (_BIN - 1) / 2.0) / _BIN
    ok = np.all(np.isfinite(dst), axis=1)
    if ok.sum() < 3:
        return None
    matrix, _ = fit_similarity(xy[ok], dst[ok])
    return matrix


def _triangles(stars: StarMeasures, ref_stars: StarMeasures) -> np.ndarray | None:
    try:
        import astroalign
    except ImportError:
        return None
    try:
        found, _ = astroalign.find_transform(stars.xy[:40], ref_stars.xy[:40], max_control_points=40)
    except (astroalign.MaxIterError, ValueError, TypeError):
        return None
    return np.asarray(found.params)


def format_table(rows: Sequence[dict]) -> str:
    """The terminal table: time, tile group, stars, FWHM, elongation, sky, transparency, weight, decision, reason."""
    head = f"{'time':<19} {'tile':>4} {'stars':>5} {'FWHM':>5} {'elong':>5} {'sky':>7} {'transp':>6} {'weight':>6} " \
           f"{'decision':<8} reason / file"
    lines = [head]
    for r in rows:
        lines.append(f"{str(r.get('date_obs') or '')[:19]:<19} {r['tile_id']:>4} {r['n_stars']:>5} "
                     f"{_f(r.get('fwhm_px'), 2):>5} {_f(r.get('elongation'), 2):>5} {_f(r.get('sky_level'), 0):>7} "
                     f"{_f(r.get('transparency'), 2):>6} {_f(r.get('weight'), 2):>6} {r['decision']:<8} "
                     f"{r.get('reason') or ''}{' ' if r.get('reason') else ''}[{r['file']}]"
                     + (f" partial {100 * r['masked_fraction']:.0f} %" if r.get("masked_fraction") else ""))
    return "\n".join(lines)


def _f(value, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
