"""Frame quality within a master-tile group: transparency against the reference, the rejection rules, the weights
and the partial-frame defects.

Everything here is pure: measured :class:`~zemosaic.quality.measures.FrameQuality` records (plus, for the
transparency, the stars and the frame -> reference transforms) in, decisions out. A resumed run calls
:func:`decide_group` again on the measures its manifest kept, so it knows whether new settings change a tile
without reading a pixel.

**Rules** (:class:`QualitySettings`): per measure, a frame is rejected when it lies on the bad side of the group's
median by more than ``k`` robust sigmas (1.4826 MAD) *and* by more than a floor (a group of near-identical frames
has a MAD of almost nothing: the floor keeps noise from rejecting good frames), or past an absolute limit (a
night that is bad throughout has a bad median). Bad sides: FWHM, elongation and sky up; transparency and star
count down. The MAD rules need 5 measured frames (smaller groups meet the absolute limits only). Transparency is
compared with the group's clearest frames (its 90th percentile), not with the
reference. No rule empties a group: when every frame would go, the frames of highest weight are kept (those
within half the best weight), with a warning.

**Weights**: ``weight = (transparency / noise)^2 / fwhm^2``, over the group's median: the squared signal-to-noise
ratio of a point source measured in an aperture matched to the seeing (its signal scales with the transparency,
its noise with the noise per pixel times the aperture's radius, i.e. the FWHM).

**Partial defects**: a cloud or an obstacle over part of a frame dims or hides the stars there. Each reference
star that falls inside the frame votes in its cell (``cell_px`` frame pixels) with its flux ratio, 0 when the
frame lost it; a cell whose median ratio is below ``partial_transparency_min`` x the group's clear level is bad.
Bad cells are opened (a lone cell is noise; a strip of 3 cells along an edge stays) and left out of the frame's
valid mask; a frame more than ``partial_max_fraction`` bad is rejected whole.
"""
from __future__ import annotations

import fnmatch
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from zemosaic._stats import mad_sigma
from zemosaic.quality.measures import FrameQuality, StarMeasures

__all__ = ["QualitySettings", "RULES", "GroupDecision", "group_cell_px", "grid_shape", "relate_to_reference",
           "decide_group", "read_exclude_list", "is_excluded", "partial_mask_on_grid"]

log = logging.getLogger(__name__)

RULES = ("fwhm", "elongation", "transparency", "sky", "stars")
"""The rejection rules, each on one measure (``frame_reject_rules`` lists those switched on)."""

_MATCH_TOL_PX = 2.0      # a frame star within this of a reference star (through the transform) is that star
_VOTE_SNR = 10.0         # reference stars at least this bright vote for the local transparency
_VOTES_PER_CELL = 8.0    # a group's cells grow until its reference has about this many voters per cell
_MIN_VOTES = 3           # votes a cell needs to be judged
_MIN_FRAMES_FOR_MAD = 5  # a median and a MAD of fewer frames say nothing: smaller groups meet the absolute limits only


@dataclass(frozen=True)
class QualitySettings:
    """The quality gate's settings (the ``frame_*`` configuration keys, resolved once).

    ``k`` values multiply the group's robust sigma (0 switches the MAD rule of that measure off); the absolute
    limits (0 switches them off): ``fwhm_max_px``, ``elongation_max``, ``transparency_min`` (of the clearest frames),
    ``sky_max_ratio`` (of the group median), ``stars_min_ratio`` (of the group median).
    """

    reject: bool = True
    rules: tuple[str, ...] = RULES
    fwhm_k: float = 3.0
    fwhm_max_px: float = 0.0
    elongation_k: float = 3.0
    elongation_max: float = 0.3
    transparency_k: float = 3.0
    transparency_min: float = 0.5
    sky_k: float = 5.0
    sky_max_ratio: float = 0.0
    stars_k: float = 3.0
    stars_min_ratio: float = 0.3
    partial: bool = True
    partial_transparency_min: float = 0.5
    partial_max_fraction: float = 0.6

    @classmethod
    def from_config(cls, cfg) -> QualitySettings:
        """The settings of a :class:`~zemosaic.config.ZeMosaicConfig` (its ``frame_*`` keys)."""
        return cls(reject=cfg.frame_reject_enabled, rules=tuple(cfg.frame_reject_rules),
                   fwhm_k=cfg.frame_reject_fwhm_k, fwhm_max_px=cfg.frame_reject_fwhm_max_px,
                   elongation_k=cfg.frame_reject_elongation_k, elongation_max=cfg.frame_reject_elongation_max,
                   transparency_k=cfg.frame_reject_transparency_k,
                   transparency_min=cfg.frame_reject_transparency_min, sky_k=cfg.frame_reject_sky_k,
                   sky_max_ratio=cfg.frame_reject_sky_max_ratio, stars_k=cfg.frame_reject_stars_k,
                   stars_min_ratio=cfg.frame_reject_stars_min_ratio, partial=cfg.frame_partial_enabled,
                   partial_transparency_min=cfg.frame_partial_transparency_min,
                   partial_max_fraction=cfg.frame_partial_max_fraction)


@dataclass
class GroupDecision:
    """What the gate decided for a group: per frame kept or not, its weight and its bad cells (or None)."""

    kept: list[bool]
    weights: list[float]
    bad_cells: list[np.ndarray | None]
    warnings: list[str] = field(default_factory=list)

    def signature(self) -> list:
        """A JSON-comparable summary: a resumed tile is reused only when its signature is unchanged."""
        cells = [None if c is None else np.flatnonzero(c).tolist() for c in self.bad_cells]
        return [self.kept, [round(w, 3) for w in self.weights], cells]


def group_cell_px(ref: StarMeasures, frame_shape: Sequence[int], cell_px: int) -> int:
    """The cell size of a group: ``cell_px``, grown (by steps of 16 px) until the reference's bright stars give
    about ``_VOTES_PER_CELL`` votes per cell (a sparse field is judged on coarser cells)."""
    n = int(np.count_nonzero(ref.snr >= _VOTE_SNR))
    area = float(frame_shape[0]) * float(frame_shape[1])
    need = math.sqrt(area * _VOTES_PER_CELL / max(n, 1))
    return int(max(cell_px, 16 * math.ceil(need / 16.0)))


def relate_to_reference(stars: StarMeasures, ref: StarMeasures, matrix: np.ndarray, frame_shape: Sequence[int],
                        cell_px: int) -> tuple[float | None, int, list]:
    """Transparency of a frame (median flux ratio of its stars matched to the reference's), the number matched,
    and its grid of local transparency (:func:`grid_shape` cells of about ``cell_px`` frame pixels; None where too
    few votes).

    ``matrix``: the 3x3 frame -> reference transform. A reference star that falls inside the frame but has no
    match votes 0 in its cell (a cloud or an obstacle hid it).
    """
    shape = (int(frame_shape[0]), int(frame_shape[1]))
    if len(ref) == 0:
        rows, cols = grid_shape(shape, cell_px)
        return None, 0, [[None] * cols for _ in range(rows)]
    ratios: dict[int, float] = {}
    pairs: dict[int, tuple[float, int]] = {}
    if len(stars):
        m = np.asarray(matrix, dtype=np.float64)
        mapped = stars.xy @ m[:2, :2].T + m[:2, 2]
        dist, idx = cKDTree(ref.xy).query(mapped, distance_upper_bound=_MATCH_TOL_PX)
        for k in np.flatnonzero(np.isfinite(dist)):  # one frame star per reference star: the closest
            j = int(idx[k])
            if j not in pairs or dist[k] < pairs[j][0]:
                pairs[j] = (float(dist[k]), int(k))
        ratios = {j: float(stars.flux[k] / ref.flux[j]) for j, (_, k) in pairs.items() if ref.flux[j] > 0}
    strong = [r for j, r in ratios.items() if ref.snr[j] >= 3 * _VOTE_SNR]
    if len(strong) < 10:  # a sparse field: the fainter stars vote too
        strong = [r for j, r in ratios.items() if ref.snr[j] >= _VOTE_SNR]
    transparency = float(np.median(strong)) if len(strong) >= _MIN_VOTES else None
    # a reference star the frame should have measured (brighter than where its measured list is complete) and did
    # not is lost; a fainter one is unknown (the list was cut) and does not vote
    seen = 1.5 * stars.complete_above / (transparency or 1.0) if len(stars) else 0.0
    return transparency, len(pairs), _grid_votes(ref, matrix, shape, cell_px, ratios, seen)


def grid_shape(frame_shape: Sequence[int], cell_px: int) -> tuple[int, int]:
    """Rows and columns of the local-transparency grid: the frame cut into equal cells of about ``cell_px``."""
    return max(1, round(int(frame_shape[0]) / cell_px)), max(1, round(int(frame_shape[1]) / cell_px))


def _grid_votes(ref: StarMeasures, matrix: np.ndarray, shape: tuple[int, int], cell_px: int,
                ratios: dict[int, float], min_ref_flux: float = 0.0) -> list:
    """Per cell of the frame, the median ratio of the bright reference stars that map into it (0 if unmatched)."""
    h, w = shape
    rows, cols = grid_shape(shape, cell_px)
    inv = np.linalg.inv(np.asarray(matrix, dtype=np.float64))
    bright = np.flatnonzero((ref.snr >= _VOTE_SNR) & (ref.flux >= min_ref_flux))
    pos = ref.xy[bright] @ inv[:2, :2].T + inv[:2, 2]
    margin = 12.0  # a star this close to the frame's edge may be cut: it does not vote
    inside = (pos[:, 0] >= margin) & (pos[:, 1] >= margin) & (pos[:, 0] <= w - 1 - margin) & \
        (pos[:, 1] <= h - 1 - margin)
    votes: dict[tuple[int, int], list[float]] = {}
    for j, (x, y) in zip(bright[inside], pos[inside], strict=True):
        votes.setdefault((int(y * rows / h), int(x * cols / w)), []).append(ratios.get(int(j), 0.0))
    grid: list = [[None] * cols for _ in range(rows)]
    for (r, c), v in votes.items():
        if len(v) >= _MIN_VOTES:
            grid[r][c] = round(float(np.median(v)), 3)
    return grid


# ------------------------------------------------------------------------------------------------------------------
# decisions


def decide_group(qualities: Sequence[FrameQuality], names: Sequence[str], settings: QualitySettings, *,
                 excluded: Sequence[bool] | None = None, protect: int | None = 0) -> GroupDecision:
    """Apply the rules, the user's exclusions, the weights and the partial masks to one group (in place on
    ``qualities``: ``decision``, ``reason``, ``weight``, ``masked_fraction``).

    ``protect``: the slot of the group's reference, which the stack needs: it is never rejected by a rule (a
    warning says when it would be); None protects nothing (``zemosaic inspect``).
    """
    n = len(qualities)
    excluded = list(excluded) if excluded is not None else [False] * n
    reasons: list[str | None] = [None] * n
    bad_cells = [_bad_cells(q, qualities, settings) if settings.partial else None for q in qualities]
    judged = [_clear_part(q, c, settings) for q, c in zip(qualities, bad_cells, strict=True)]
    if settings.reject:
        for rule in settings.rules:
            for k, why in _apply_rule(rule, judged, settings).items():
                reasons[k] = reasons[k] or why
    for k, cells in enumerate(bad_cells):
        if cells is not None and cells.mean() > settings.partial_max_fraction and reasons[k] is None:
            reasons[k] = (f"partial defect over {100 * cells.mean():.0f} % of the frame > "
                          f"{100 * settings.partial_max_fraction:.0f} % (frame_partial_max_fraction)")
    weights = _weights(qualities)
    warnings = _keep_some(reasons, excluded, weights, names, protect)
    for k, q in enumerate(qualities):
        q.weight = weights[k]
        if excluded[k]:
            q.decision, q.reason = "excluded", "frame_exclude list"
        elif reasons[k] is not None:
            q.decision, q.reason = "rejected", reasons[k]
        else:
            q.decision, q.reason = "kept", None
        cells = bad_cells[k] if q.decision == "kept" else None
        q.masked_fraction = float(cells.mean()) if cells is not None else 0.0
        bad_cells[k] = cells if cells is not None and cells.any() else None
    kept = [q.decision == "kept" for q in qualities]
    return GroupDecision(kept, weights, bad_cells, warnings)


def _clear_part(q: FrameQuality, cells: np.ndarray | None, s: QualitySettings) -> FrameQuality:
    """The measures the rules judge: a frame with a partial defect (left out of its valid mask) is judged on its
    clear part: transparency from its clear cells, star count scaled to the whole frame, sky not judged (the
    cloud's glow or the obstacle is what the mask removes)."""
    if cells is None or not cells.any() or cells.mean() > s.partial_max_fraction:
        return q
    grid = np.array([[np.nan if v is None else v for v in row] for row in q.local_transparency], dtype=float)
    clear = grid[~cells & np.isfinite(grid)]
    return replace(q, transparency=float(np.median(clear)) if clear.size else q.transparency,
                   n_stars=int(round(q.n_stars / max(1e-3, 1.0 - float(cells.mean())))), sky_level=float("nan"))


def _apply_rule(rule: str, qs: Sequence[FrameQuality], s: QualitySettings) -> dict[int, str]:
    """Frames a rule rejects, with the reason naming the measure, the limit and where the limit comes from."""
    if rule == "fwhm":
        return _robust_rule("FWHM", [q.fwhm_px for q in qs], +1, s.fwhm_k, s.fwhm_max_px, "px", rel_floor=0.15)
    if rule == "elongation":
        return _robust_rule("elongation", [q.elongation for q in qs], +1, s.elongation_k, s.elongation_max, "",
                            abs_floor=0.05)
    if rule == "sky":
        skies: list[float | None] = [q.sky_level for q in qs]
        med = _median(skies)
        limit = s.sky_max_ratio * med if (s.sky_max_ratio > 0 and med is not None) else 0.0
        return _robust_rule("sky", skies, +1, s.sky_k, limit, " ADU", rel_floor=0.25)
    if rule == "transparency":
        values = [q.transparency for q in qs]
        clear = _percentile(values, 90)
        rel: list[float | None] = [None if v is None or not clear else v / clear for v in values]
        return _robust_rule("transparency (of the clearest frames)", rel, -1, s.transparency_k,
                            s.transparency_min, "", abs_floor=0.1)
    if rule == "stars":
        values = [float(q.n_stars) for q in qs]
        med = _median(values) or 0.0
        return _robust_rule("stars", values, -1, s.stars_k, s.stars_min_ratio * med, "", rel_floor=0.3)
    raise ValueError(f"unknown frame rejection rule {rule!r} (known: {', '.join(RULES)})")


def _robust_rule(name: str, values: Sequence[float | None], side: int, k: float, absolute: float, unit: str, *,
                 rel_floor: float = 0.0, abs_floor: float = 0.0) -> dict[int, str]:
    """``side`` +1: high is bad; -1: low is bad. The MAD limit is ``median + side * max(k sigma, floor)``."""
    finite = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    out: dict[int, str] = {}
    limit, why_mad = None, ""
    if k > 0 and len(finite) >= _MIN_FRAMES_FOR_MAD:
        med = float(np.median(finite))
        sigma = float(mad_sigma(finite, center=med))
        margin = max(k * sigma, rel_floor * abs(med), abs_floor)
        limit = med + side * margin
        why_mad = f"group median {_fmt(med)} {'+' if side > 0 else '-'} {k:g} MAD"
    for i, v in enumerate(values):
        if v is None or not math.isfinite(v):
            continue
        if limit is not None and side * (v - limit) > 0:
            out[i] = f"{name} {_fmt(v)}{unit} {'>' if side > 0 else '<'} {_fmt(limit)}{unit} ({why_mad})"
        elif absolute > 0 and side * (v - absolute) > 0:
            out[i] = f"{name} {_fmt(v)}{unit} {'>' if side > 0 else '<'} {_fmt(absolute)}{unit} (absolute limit)"
    return out


def _weights(qs: Sequence[FrameQuality]) -> list[float]:
    """``(transparency / noise)^2 / fwhm^2`` over the group median (1 where a measure is missing)."""
    raw = []
    for q in qs:
        t = q.transparency if q.transparency is not None else 1.0
        if q.fwhm_px and q.noise > 0:
            raw.append((t / q.noise) ** 2 / q.fwhm_px**2)
        else:
            raw.append(float("nan"))
    arr = np.array(raw)
    good = np.isfinite(arr) & (arr > 0)
    if not good.any():
        return [1.0] * len(qs)
    med = float(np.median(arr[good]))
    return [round(float(v / med), 4) if g else 1.0 for v, g in zip(arr, good, strict=True)]


def _keep_some(reasons: list[str | None], excluded: list[bool], weights: list[float], names: Sequence[str],
               protect: int | None) -> list[str]:
    """Never empty a group: the reference is kept, and when no frame survives the rules the best ones are."""
    warnings = []
    if protect is not None and reasons[protect] is not None:
        warnings.append(f"reference frame {names[protect]} kept although {reasons[protect]}")
        reasons[protect] = None
    candidates = [k for k in range(len(reasons)) if not excluded[k]]
    if candidates and all(reasons[k] is not None for k in candidates):
        best = max(weights[k] for k in candidates)
        keep = [k for k in candidates if weights[k] >= 0.5 * best]
        warnings.append(f"every frame of the group fails a quality rule: the {len(keep)} best kept "
                        f"({', '.join(names[k] for k in keep)})")
        for k in keep:
            reasons[k] = None
    for text in warnings:
        log.warning("frame quality: %s", text)
    return warnings


def _bad_cells(q: FrameQuality, qs: Sequence[FrameQuality], s: QualitySettings) -> np.ndarray | None:
    """The frame's cells dimmed below ``partial_transparency_min`` x the group's clear level (cleaned), or None."""
    if not q.local_transparency:
        return None
    clear = _percentile([x.transparency for x in qs], 90) or 1.0
    grid = np.array([[np.nan if v is None else v for v in row] for row in q.local_transparency], dtype=float)
    bad = np.isfinite(grid) & (grid < s.partial_transparency_min * clear)
    return ndimage.binary_opening(bad, structure=np.ones((2, 2), bool)) | _large_parts(bad)


def _large_parts(bad: np.ndarray) -> np.ndarray:
    """Connected groups of at least 3 bad cells (a thin strip along an edge survives the opening through this)."""
    labels, n = ndimage.label(bad)
    if n == 0:
        return np.zeros_like(bad)
    sizes = ndimage.sum(bad, labels, index=np.arange(1, n + 1))
    return np.isin(labels, 1 + np.flatnonzero(sizes >= 3))


def partial_mask_on_grid(bad_cells: np.ndarray, frame_shape: Sequence[int], frame_to_grid: np.ndarray,
                         grid_shape_hw: Sequence[int]) -> np.ndarray:
    """True on the pixels of an output grid that come from a bad cell of the frame.

    ``bad_cells`` (rows x cols) cut the frame (``frame_shape``) into equal cells; ``frame_to_grid`` is the 3x3
    frame -> grid transform. Each grid pixel is mapped back into the frame and its cell looked up (pixels that
    fall outside the frame are False: the frame's own valid mask already drops them).
    """
    h, w = int(grid_shape_hw[0]), int(grid_shape_hw[1])
    fh, fw = float(frame_shape[0]), float(frame_shape[1])
    inv = np.linalg.inv(np.asarray(frame_to_grid, dtype=np.float64))
    rows, cols = bad_cells.shape
    out = np.zeros((h, w), dtype=bool)
    xs = np.arange(w, dtype=np.float64)
    for y0 in range(0, h, 256):
        ys = np.arange(y0, min(h, y0 + 256), dtype=np.float64)
        gx = inv[0, 0] * xs[None, :] + inv[0, 1] * ys[:, None] + inv[0, 2]
        gy = inv[1, 0] * xs[None, :] + inv[1, 1] * ys[:, None] + inv[1, 2]
        inside = (gx > -0.5) & (gy > -0.5) & (gx < fw - 0.5) & (gy < fh - 0.5)
        cx = np.clip(np.floor((gx + 0.5) * cols / fw).astype(int), 0, cols - 1)
        cy = np.clip(np.floor((gy + 0.5) * rows / fh).astype(int), 0, rows - 1)
        out[y0:y0 + len(ys)] = inside & bad_cells[cy, cx]
    return out


# ------------------------------------------------------------------------------------------------------------------
# the user's exclusion list


def read_exclude_list(path: str | Path) -> list[str]:
    """The names or glob patterns of a ``frame_exclude`` file: one a line, ``#`` starts a comment.

    Raises
    ------
    OSError
        The file cannot be read (the message names it).
    """
    text = Path(path).read_text(encoding="utf-8")
    return [line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip()]


def read_exclude_notes(path: str | Path) -> dict[str, str]:
    """The comment written after each pattern of a ``frame_exclude`` file (``name  # why``), by pattern; patterns
    without one are left out. Raises OSError as :func:`read_exclude_list`."""
    notes = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        pattern, _, note = line.partition("#")
        if pattern.strip() and note.strip():
            notes[pattern.strip()] = note.strip()
    return notes


def is_excluded(path: str | Path, patterns: Sequence[str]) -> bool:
    """Whether a frame matches one of the patterns (its file name, or its whole path, ``fnmatch`` globs)."""
    p = Path(path)
    return any(fnmatch.fnmatch(p.name, pat) or fnmatch.fnmatch(str(p), pat) for pat in patterns)


def _median(values: Sequence[float | None]) -> float | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.median(finite)) if finite else None


def _percentile(values: Sequence[float | None], q: float) -> float | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.percentile(finite, q)) if finite else None


def _fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
