"""Phase 3's frame-quality gate: measure each frame once while it is loaded, then, once the group's transforms are
known, relate every frame to the reference (transparency), reject, weight, and shrink the valid masks of the frames
with a partial defect (:mod:`zemosaic.quality` holds the measures and the rules; this module wires them into a
master tile).
"""
from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from zemosaic.align.stars import detect_stars_with_sky, luminance_plane
from zemosaic.quality.group import (
    GroupDecision,
    QualitySettings,
    decide_group,
    group_cell_px,
    partial_mask_on_grid,
    relate_to_reference,
)
from zemosaic.quality.measures import FrameQuality, StarMeasures, measure_frame, measure_stars

__all__ = ["MeasuredFrame", "measure_loaded", "GateResult", "gate_group", "apply_partial_masks",
           "quality_history", "decision_from_records"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class MeasuredFrame:
    """A loaded frame's one detection pass: the star positions (for the aligner; pieces of a line left out), their
    measures and the frame's :class:`FrameQuality`."""

    xy: np.ndarray
    stars: StarMeasures
    quality: FrameQuality


def measure_loaded(lum: np.ndarray, detection_sigma: float, min_area: int) -> MeasuredFrame:
    """Detect the stars of a luminance plane once and measure the frame from them."""
    detection = detect_stars_with_sky(lum, detection_sigma, min_area)
    stars = measure_stars(detection)  # every detected star (at most 800): a satellite's pieces do not crowd them out
    # pieces of a satellite trail are bright "stars" on a line: the aligner's brightest control points would be
    # them, and a transform matched on them is wrong; they are no stars for the aligner either
    xy = np.delete(detection.xy, stars.index[stars.line_like()], axis=0)
    return MeasuredFrame(xy, stars, measure_frame(detection, stars))


def measure_frame_data(data: np.ndarray, detection_sigma: float, min_area: int) -> MeasuredFrame:
    """:func:`measure_loaded` of a loaded (debayered) frame."""
    return measure_loaded(luminance_plane(data), detection_sigma, min_area)


@dataclass
class GateResult:
    """The gate's outcome for a group: the alignment results with rejected frames marked ``failed``, the stack's
    per-frame weight factors (None unless ``psf_snr``), the bad cells per slot (cells of ``cell_px`` frame pixels)
    and the rejected frames' reasons."""

    found: list
    factors: dict[int, float] | None
    bad_cells: list[np.ndarray | None]
    rejected: list[tuple[Path, str]]
    decision: GroupDecision
    cell_px: int


def gate_group(found: Sequence[Any], paths: Sequence[Path], measured: Sequence[MeasuredFrame], frame_shape,
               cfg, tile_id: int) -> GateResult:
    """Transparency against the reference (slot 0) through each frame's transform, then the group's decisions.

    Frames that failed alignment are left as they are (their measures are reported, not judged).
    """
    ref = measured[0]
    cell = group_cell_px(ref.stars, frame_shape, int(cfg.frame_quality_cell_px))
    for k, m in enumerate(measured):
        q = m.quality
        q.cell_px = cell
        if k == 0:
            q.transparency, q.matched_stars, q.local_transparency = relate_to_reference(
                m.stars, ref.stars, np.eye(3), frame_shape, cell)
        elif found[k].ok and found[k].transform is not None:
            q.transparency, q.matched_stars, q.local_transparency = relate_to_reference(
                m.stars, ref.stars, found[k].transform.matrix, frame_shape, cell)
    slots = [k for k, f in enumerate(found) if f.ok]
    settings = QualitySettings.from_config(cfg)
    names = [paths[k].name for k in slots]
    decision = decide_group([measured[k].quality for k in slots], names, settings, protect=0)
    out = list(found)
    rejected: list[tuple[Path, str]] = []
    bad_cells: list[np.ndarray | None] = [None] * len(found)
    for j, k in enumerate(slots):
        q = measured[k].quality
        if not decision.kept[j]:
            reason = f"rejected for quality: {q.reason}"
            out[k] = replace(found[k], method="failed", reason=reason, image=None, valid=None)
            rejected.append((paths[k], reason))
            log.info("FRAME_QUALITY tile_id=%d %s rejected: %s", tile_id, paths[k].name, q.reason)
        bad_cells[k] = decision.bad_cells[j]
        if decision.bad_cells[j] is not None:
            log.info("FRAME_QUALITY tile_id=%d %s partial defect: %.0f %% of the frame left out", tile_id,
                     paths[k].name, 100 * q.masked_fraction)
    kept = [k for j, k in enumerate(slots) if decision.kept[j]]
    log.info("FRAME_QUALITY tile_id=%d kept %d/%d frames (%d rejected, %d with a partial defect)", tile_id,
             len(kept), len(slots), len(rejected), sum(c is not None for c in bad_cells))
    return GateResult(out, _stack_factors(measured, kept, cfg), bad_cells, rejected, decision, cell)


def _stack_factors(measured: Sequence[MeasuredFrame], kept: Sequence[int], cfg) -> dict[int, float] | None:
    """``psf_snr``: per kept slot ``(median FWHM / FWHM)^2`` (1 where the FWHM is unknown); None otherwise."""
    if cfg.stack_weighting_method != "psf_snr":
        return None
    fwhm = {k: measured[k].quality.fwhm_px for k in kept}
    known = [f for f in fwhm.values() if f]
    med = float(np.median(known)) if known else 1.0
    return {k: (med / f) ** 2 if f else 1.0 for k, f in fwhm.items()}


def apply_partial_masks(aligned: Sequence[Any], bad_cells: Sequence[np.ndarray | None], canvas, frame_shape
                        ) -> dict[int, float]:
    """Remove the bad cells of each frame from its valid mask on the canvas (in place); returns, per slot, the
    fraction of the frame's valid pixels removed."""
    removed: dict[int, float] = {}
    for k, cells in enumerate(bad_cells):
        a = aligned[k]
        if cells is None or not a.ok or a.valid is None or a.transform is None:
            continue
        onto = canvas.from_reference(a.transform).matrix
        bad = partial_mask_on_grid(cells, frame_shape, onto, a.valid.shape)
        before = int(np.count_nonzero(a.valid))
        a.valid[bad] = False
        removed[k] = (before - int(np.count_nonzero(a.valid))) / max(before, 1)
    return removed


def quality_history(records: Sequence[dict]) -> list[str]:
    """One ``HISTORY`` line (72 characters at most) per frame record of a tile report: measures and decision."""
    lines = []
    for r in records:
        head = (f"Q fwhm={_num(r.get('fwhm_px'), 2)} e={_num(r.get('elongation'), 2)} "
                f"T={_num(r.get('transparency'), 2)} w={_num(r.get('weight'), 2)} {str(r.get('decision'))[:4]} ")
        lines.append((head + Path(r["path"]).name)[:72])
    return lines


def decision_from_records(records: Sequence[dict], cfg) -> list | None:
    """The gate's signature for a group from the quality records a manifest kept (slot order, only the frames
    the gate judged), under the settings of ``cfg``; None when the records cannot be judged."""
    names_ok = set(FrameQuality.__dataclass_fields__)
    try:
        qualities = [FrameQuality(**{k: v for k, v in r.items() if k in names_ok}) for r in records]
    except TypeError:
        return None
    names = [Path(r.get("path", "")).name for r in records]
    return decide_group(qualities, names, QualitySettings.from_config(cfg), protect=0).signature()


def _num(value: float | None, digits: int) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"
