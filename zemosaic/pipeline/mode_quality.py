"""Phase 3's frame-quality gate (:mod:`zemosaic.pipeline.frame_gate`, issue 25) for GRID and SDS, whose frames are
aligned on the global grid instead of stacked into master tiles.

The same measures, rules and records as in master tiles, judged over the same groups:

1. every frame was measured once when it was read (:func:`zemosaic.pipeline.global_frames.align_frames_to_grid`);
2. the frames are grouped as Phase 2 groups them (:func:`zemosaic.pipeline.clustering.cluster_frames`): a frame is
   judged against the frames of its own pointing, whose sky, stars and transparency it shares;
3. in each group a reference is chosen as Phase 3 chooses it (the most central frame with enough stars, a usual
   sky level and sharp round stars), each frame is related to it through the two WCSs (refined on the matched
   stars), and :func:`zemosaic.quality.group.decide_group` applies the rules;
4. a rejected frame leaves the run (``rejected for quality: ...``); a partial defect (a cloud, an obstacle) is
   removed from the frame's pixels on the global grid (its cached pixels there become missing, so no stack reads
   them); with ``stack_weighting_method = psf_snr`` each kept frame gets its sharpness factor
   ``(median FWHM / FWHM)^2``, applied by the stacker on top of its noise weights;
5. each frame's measures and decision are records for ``run_report.json`` and ``frames.csv``
   (:func:`zemosaic.pipeline.frame_records.record_quality`), ``tile_id`` being the group's number.

No reference is protected (as ``zemosaic inspect``): GRID and SDS stack the frames already matched photometrically
on the global grid, no stack needs a reference frame.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zemosaic._stats import mad_sigma
from zemosaic.align.transform import refine_similarity, wcs_transform
from zemosaic.config import ZeMosaicConfig
from zemosaic.pipeline.clustering import cluster_frames
from zemosaic.pipeline.global_frames import MASK_STEP, AlignedFrame, FrameSet
from zemosaic.quality.group import (
    QualitySettings,
    decide_group,
    group_cell_px,
    partial_mask_on_grid,
    relate_to_reference,
)

__all__ = ["ModeGate", "gate_frames"]

log = logging.getLogger(__name__)


@dataclass
class ModeGate:
    """The gate's outcome: the rejected frames with their reason, the stack's weight factor per frame index (None
    unless ``psf_snr``), the records ``(group id, record)`` for the report and ``frames.csv``, and the counts."""

    rejected: list[tuple[Path, str]] = field(default_factory=list)
    factors: dict[int, float] | None = None
    records: list[tuple[int, dict]] = field(default_factory=list)
    summary: dict = field(default_factory=dict)


def gate_frames(frameset: FrameSet, cfg: ZeMosaicConfig, tag: str) -> ModeGate:
    """Judge the frames of ``frameset`` group by group (module docstring); the rejected frames are removed from
    ``frameset.frames`` and the partial defects from the kept frames' cached pixels. ``tag``: the log's mode tag."""
    measured = [f for f in frameset.frames if f.measured is not None]
    groups = cluster_frames([f.info for f in measured], threshold_fov_frac=cfg.cluster_threshold_fov_frac,
                            split_by_mount=cfg.split_by_mount_mode, max_frames=cfg.max_frames_per_tile)
    gate = ModeGate(factors={} if cfg.stack_weighting_method == "psf_snr" else None)
    gone: set[int] = set()
    masked = 0
    for gid, group in enumerate(groups):
        members = [measured[i] for i in group.members]
        order = [group.members.index(group.reference)] + [k for k in range(len(members))
                                                           if members[k] is not measured[group.reference]]
        members = [members[k] for k in order]
        masked += _gate_group(gid, members, frameset, cfg, gate, gone, tag)
    frameset.frames = [f for f in frameset.frames if f.index not in gone]
    gate.summary = {"groups": len(groups), "judged": len(measured), "rejected": len(gone), "partial": masked}
    if gate.factors is not None:
        names = {f.index: f.path.name for f in measured}
        gate.summary["psf_snr_factors"] = {names[k]: round(v, 4) for k, v in sorted(gate.factors.items())}
    log.info("[%s] FRAME_QUALITY %d frame(s) judged in %d group(s): %d rejected, %d with a partial defect left out",
             tag, len(measured), len(groups), len(gone), masked)
    return gate


def _gate_group(gid: int, members: Sequence[AlignedFrame], frameset: FrameSet, cfg: ZeMosaicConfig,
                gate: ModeGate, gone: set[int], tag: str) -> int:
    """One group: relate, decide, apply; returns the number of frames with a partial defect left out."""
    ref = members[_reference_slot(members)]
    shape = tuple(int(v) for v in ref.info.shape[:2])
    cell = group_cell_px(ref.measured.stars, shape, int(cfg.frame_quality_cell_px))
    qualities = []
    for f in members:
        q = f.measured.quality
        q.cell_px = cell
        matrix = np.eye(3) if f is ref else _to_reference(f, ref)
        if matrix is not None:
            q.transparency, q.matched_stars, q.local_transparency = relate_to_reference(
                f.measured.stars, ref.measured.stars, matrix, shape, cell)
        qualities.append(q)
    decision = decide_group(qualities, [f.path.name for f in members], QualitySettings.from_config(cfg),
                            protect=None)
    n_masked = 0
    for f, q, kept, cells in zip(members, qualities, decision.kept, decision.bad_cells, strict=True):
        record = {"path": str(f.path), **q.as_dict(),
                  "bad_cells": [] if cells is None else np.flatnonzero(cells).tolist()}
        if not kept:
            gone.add(f.index)
            gate.rejected.append((f.path, f"rejected for quality: {q.reason}"))
            log.info("[%s] FRAME_QUALITY group=%d %s rejected: %s", tag, gid, f.path.name, q.reason)
        elif cells is not None:
            record["masked_valid_fraction"] = round(_mask_cells(f, cells, frameset), 4)
            n_masked += 1
            log.info("[%s] FRAME_QUALITY group=%d %s partial defect: %.0f %% of the frame left out", tag, gid,
                     f.path.name, 100 * q.masked_fraction)
        gate.records.append((gid, record))
    if gate.factors is not None:
        gate.factors.update(_sharpness_factors([f for f, k in zip(members, decision.kept, strict=True) if k]))
    return n_masked


def _reference_slot(members: Sequence[AlignedFrame]) -> int:
    """Phase 3's choice: the first (most central) frame with at least half the group's median star count (and 3),
    a sky level within the group's spread and stars no softer than 1.25 x the median FWHM nor more elongated than
    the median + 0.1; slot 0 when none qualifies."""
    qs = [f.measured.quality for f in members]
    stars = np.array([q.n_stars for q in qs], dtype=float)
    sky = np.array([q.sky_level for q in qs], dtype=float)
    med_sky = float(np.nanmedian(sky))
    tol = max(5.0 * float(mad_sigma(sky[np.isfinite(sky)], center=med_sky)),
              3.0 * float(np.median([q.noise for q in qs])))
    fwhm = [q.fwhm_px for q in qs if q.fwhm_px]
    elong = [q.elongation for q in qs if q.elongation is not None]
    med_f = float(np.median(fwhm)) if fwhm else None
    med_e = float(np.median(elong)) if elong else None
    for slot, q in enumerate(qs):
        sharp = (not q.fwhm_px or med_f is None or q.fwhm_px <= 1.25 * med_f) and \
            (q.elongation is None or med_e is None or q.elongation <= med_e + 0.1)
        if q.n_stars >= max(3.0, 0.5 * float(np.median(stars))) and abs(q.sky_level - med_sky) <= tol and sharp:
            return slot
    return 0


def _to_reference(frame: AlignedFrame, ref: AlignedFrame) -> np.ndarray | None:
    """The frame -> reference pixel transform the two WCSs predict, refined on the matched stars (kept as
    predicted when fewer than 4 pairs)."""
    guess = wcs_transform(frame.info.wcs, ref.info.wcs, tuple(frame.info.shape[:2]))
    if guess is None:
        return None
    src, dst = frame.measured.stars.xy, ref.measured.stars.xy
    if len(src) < 4 or len(dst) < 4:
        return guess
    refined, n_pairs = refine_similarity(src, dst, guess)
    return refined.matrix if n_pairs >= 4 else guess


def _mask_cells(frame: AlignedFrame, cells: np.ndarray, frameset: FrameSet) -> float:
    """Make the frame's bad cells missing in its cached pixels on the grid; the fraction of its valid pixels
    removed."""
    onto = wcs_transform(frame.info.wcs, frameset.grid.wcs, tuple(frame.info.shape[:2]))
    if onto is None:
        return 0.0
    y0, y1, x0, x1 = frame.window
    onto = onto.copy()
    onto[0, 2] -= x0
    onto[1, 2] -= y0
    bad = partial_mask_on_grid(cells, frame.info.shape[:2], onto, (y1 - y0, x1 - x0))
    frame._array = None
    pixels = np.load(frame.cache, mmap_mode="r+")
    valid = np.isfinite(pixels[..., 0])
    before = int(np.count_nonzero(valid))
    cut = bad & valid
    pixels[cut] = np.nan
    pixels.flush()
    del pixels
    frame.valid_small = frame.valid_small & ~bad[::MASK_STEP, ::MASK_STEP]
    return int(np.count_nonzero(cut)) / max(before, 1)


def _sharpness_factors(kept: Sequence[AlignedFrame]) -> dict[int, float]:
    """``psf_snr``: per kept frame ``(median FWHM / FWHM)^2`` over its group (1 where the FWHM is unknown)."""
    fwhm = {f.index: f.measured.quality.fwhm_px for f in kept}
    known = [v for v in fwhm.values() if v]
    med = float(np.median(known)) if known else 1.0
    return {k: (med / v) ** 2 if v else 1.0 for k, v in fwhm.items()}
