"""Inter-tile photometric harmony (Phase 4.5): per tile and channel a gain, an offset and optionally a plane.

:func:`solve_tile_harmony` solves the corrections so that overlapping tiles agree; :func:`sample_overlap` turns
two reprojected tiles into the robust block samples it needs for the offsets and planes. The gains come from the
star fluxes both tiles share (:func:`star_photometry.measure_stars` / :func:`star_photometry.match_star_samples`,
passed in :class:`TileOverlap`): a star's local-sky-subtracted flux scales with the gain only; diffuse structure
mixes gain with sky differences, so it is only the fallback. Pure array maths (no files, tiles or configuration
objects).
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from zemosaic._sample_blocks import block_medians
from zemosaic._stats import mad_sigma, robust_sigma
from zemosaic.background import as_hwc

__all__ = [
    "TileOverlap",
    "TileCorrection",
    "HarmonySolution",
    "OverlapSamples",
    "solve_tile_harmony",
    "sample_overlap",
]

logger = logging.getLogger(__name__)

_MAX_ITER = 10               # clip-and-refit iterations
_HARMONY_CLIP_SIGMA = 3.5    # harmony: residual clip (per overlap, in robust sigmas)
_HARMONY_LOG_GAIN_PRIOR = float(np.log(1.5))  # harmony: mild prior width on log gains
_HARMONY_MIN_CORR = 0.9      # harmony: overlaps whose structure correlates less give no gain information
_HARMONY_DIFFUSE_LOG_FLOOR = 0.02  # harmony: floor on the log-ratio error of the diffuse estimator (its bias)
_STAR_MIN_COUNT = 5               # stars needed for a star-based gain ratio of an overlap
_STAR_LOG_FLOOR = 0.005           # systematic floor on one star's log-ratio error (PSF, sampling)
_STAR_PAIR_FLOOR = 0.002          # systematic floor on an overlap's star log-ratio error (aperture losses)
_STAR_CLIP = 4.0                  # clip of star log ratios, in robust sigmas


@dataclass(frozen=True, eq=False)
class TileOverlap:
    """Samples of one overlap between tiles ``i`` and ``j``.

    Attributes
    ----------
    i, j : int
        Tile indices.
    x, y : numpy.ndarray
        ``(N,)`` sample positions in global mosaic pixel coordinates (x = column, y = row).
    values_i, values_j : numpy.ndarray
        ``(N, C)`` (or ``(N,)`` for mono) values of the two tiles at those positions. Stars and
        outliers are tolerated (the solve clips), block medians (:func:`sample_overlap`) are best.
    weight : float
        Relative weight of this overlap in the solve.
    star_i, star_j : numpy.ndarray
        ``(M, C)`` background-subtracted aperture fluxes of the same M stars in the two tiles
        (:func:`star_photometry.match_star_samples`); NaN where a channel is unusable. Empty by default. With at
        least 5 stars in a channel, the tiles' gain ratio comes from them, not from the diffuse samples.
    star_err : numpy.ndarray or None
        ``(M, C)`` 1-sigma error of ``log(star_i / star_j)``; None weights the stars equally.
    star_x, star_y : numpy.ndarray
        ``(M,)`` star positions in global pixels (for diagnostics; empty by default).
    """

    i: int
    j: int
    x: np.ndarray
    y: np.ndarray
    values_i: np.ndarray
    values_j: np.ndarray
    weight: float = 1.0
    star_i: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    star_j: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    star_err: np.ndarray | None = None
    star_x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    star_y: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def n_samples(self) -> int:
        """Number of samples N."""
        return int(np.asarray(self.x).size)

    @property
    def n_stars(self) -> int:
        """Number of star samples M."""
        return int(np.asarray(self.star_i).shape[0]) if np.asarray(self.star_i).ndim else 0


@dataclass(frozen=True, eq=False)
class TileCorrection:
    """Photometric correction of one tile: ``gain * v + offset + plane[:, 0] * x + plane[:, 1] * y``.

    Attributes
    ----------
    gain, offset : numpy.ndarray
        ``(C,)`` per channel.
    plane : numpy.ndarray
        ``(C, 2)`` coefficients of x (column) and y (row) in global mosaic pixels.
    reason : str or None
        Why the correction is the identity or anchored apart (disconnected tile), None otherwise.
    """

    gain: np.ndarray
    offset: np.ndarray
    plane: np.ndarray
    reason: str | None = None

    @property
    def is_identity(self) -> bool:
        """True when the correction changes nothing."""
        return bool(np.all(self.gain == 1.0) and not np.any(self.offset) and not np.any(self.plane))

    def apply(self, values: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Correct tile values at global positions ``(x, y)``.

        Parameters
        ----------
        values : numpy.ndarray
            ``(..., C)``; with a single channel a plain ``(...)`` array is accepted too.
        x, y : numpy.ndarray
            Global pixel coordinates broadcastable to ``values.shape[:-1]`` (or ``values.shape`` for a
            mono array without channel axis), e.g. ``x = np.arange(W)[None, :] + x0``.

        Returns
        -------
        numpy.ndarray
            Corrected values, float32 when ``values`` is float32, float64 otherwise. NaN stays NaN.
        """
        values = np.asarray(values)
        n_ch = self.gain.shape[0]
        no_axis = n_ch == 1 and (values.ndim == 0 or values.shape[-1] != 1)
        v = values[..., None] if no_axis else values
        if v.shape[-1] != n_ch:
            raise ValueError(f"values have {v.shape[-1]} channels, the correction {n_ch}")
        dtype = np.float32 if values.dtype == np.float32 else np.float64
        xx = np.asarray(x, dtype=dtype)[..., None]
        yy = np.asarray(y, dtype=dtype)[..., None]
        plane = self.plane.astype(dtype)
        ramp = self.offset.astype(dtype) + plane[:, 0] * xx + plane[:, 1] * yy
        out = v.astype(dtype, copy=False) * self.gain.astype(dtype) + ramp
        return out[..., 0] if no_axis else out

    def as_dict(self) -> dict:
        """JSON-able summary (plane in value units per 1000 px)."""
        return {"gain": [round(float(g), 6) for g in self.gain],
                "offset": [round(float(o), 4) for o in self.offset],
                "plane_per_kpx": [[round(float(c) * 1000.0, 4) for c in row] for row in self.plane],
                "reason": self.reason}


@dataclass(frozen=True, eq=False)
class HarmonySolution:
    """Result of :func:`solve_tile_harmony`.

    Attributes
    ----------
    corrections : list of TileCorrection
        One per tile, indexed by tile number.
    anchor : int or None
        Anchor tile of the main component (identity correction), None when anchored on the mean.
    dropped_overlaps : tuple of (int, int)
        Overlaps ignored (too few samples or invalid), as ``(i, j)``.
    disconnected_tiles : tuple of int
        Tiles not connected to the anchor's component (identity, or anchored on their own best tile
        when their component has several tiles; see each correction's ``reason``).
    rms_before, rms_after : numpy.ndarray
        ``(C,)`` RMS of the tile differences on the kept overlap samples (outliers excluded), before
        and after correction.
    gain_estimators : tuple
        Per kept overlap ``(i, j, methods)``, ``methods`` one string per channel: ``"stars"`` (gain
        ratio from matched star fluxes), ``"structure"`` (from the diffuse structure) or ``"none"``.
    """

    corrections: list
    anchor: int | None
    dropped_overlaps: tuple
    disconnected_tiles: tuple
    rms_before: np.ndarray
    rms_after: np.ndarray
    gain_estimators: tuple = ()

    def as_dict(self) -> dict:
        """JSON-able summary."""
        return {"anchor": self.anchor,
                "dropped_overlaps": [list(p) for p in self.dropped_overlaps],
                "disconnected_tiles": list(self.disconnected_tiles),
                "rms_before": [round(float(r), 4) for r in self.rms_before],
                "rms_after": [round(float(r), 4) for r in self.rms_after],
                "gain_estimators": [[i, j, list(m)] for i, j, m in self.gain_estimators],
                "tiles": [c.as_dict() for c in self.corrections]}


class OverlapSamples(NamedTuple):
    """Block-median samples of an overlap (unpacks as ``x, y, values_i, values_j``)."""

    x: np.ndarray
    y: np.ndarray
    values_i: np.ndarray
    values_j: np.ndarray


def solve_tile_harmony(overlaps: Sequence[TileOverlap], n_tiles: int, *, n_channels: int,
                       anchor: int | str | None = None, plane: bool = True, min_samples: int = 50,
                       image_shape: tuple | None = None, min_stars: int = _STAR_MIN_COUNT) -> HarmonySolution:
    """Solve per tile and channel ``gain, offset (+ plane)`` so that overlapping tiles agree.

    The model asks ``g_i v_i + o_i + p_i(x, y) ~= g_j v_j + o_j + p_j(x, y)`` on every overlap sample.
    It is solved in two linear steps per channel and connected component:

    1. gains, in log space: each overlap gives a ratio ``r_ij = v_i / v_j`` per channel. With at
       least ``min_stars`` star samples (``star_i``, ``star_j``) it is the clipped, error-weighted mean
       of ``log(star_i / star_j)`` (weighted median first, 4-sigma clip on the MAD-scaled residuals,
       uncertainty inflated by that scale): stars are point sources, so their local-sky-subtracted
       fluxes scale with the gain only, whatever the tiles' sky levels and gradients. Otherwise it
       falls back on a total least-squares fit ``v_i ~ r_ij v_j + plane`` of the diffuse structure
       both tiles share (clipped; no ratio below a correlation of 0.9), whose error is floored at 2 %
       because sky differences bias it. The log gains then come from a weighted least-squares solve
       over the overlap graph, anchor fixed, with a mild prior toward gain 1; which estimator each
       overlap used is logged and returned in ``gain_estimators``;
    2. offsets and planes (gains fixed): a weighted least-squares solve with per-overlap noise
       weights and iterative 3.5-sigma clipping of the residuals.

    Guards: overlaps with fewer than ``min_samples`` samples (or bad indices/shapes) are dropped and
    logged; a tile without any kept overlap gets the identity with a reason; a component not
    connected to the anchor's is anchored on its own best-covered tile (reason recorded, tiles
    listed in ``disconnected_tiles``).

    Parameters
    ----------
    overlaps : sequence of TileOverlap
        Overlap samples, positions in global pixels.
    n_tiles : int
        Number of tiles.
    n_channels : int
        Number of channels C of the values.
    anchor : int, "mean" or None
        Tile whose correction is the identity. None picks the tile with the most overlap samples.
        ``"mean"`` anchors each component on the mean: average gain 1, offset 0 and plane 0.
    plane : bool
        Also fit a plane per tile and channel.
    min_samples : int
        Overlaps with fewer samples are dropped.
    image_shape : tuple, optional
        ``(H, W)`` of the mosaic, to normalise x, y (else the sample extent is used).
    min_stars : int
        Star samples needed in a channel for the star-based gain ratio of an overlap.

    Returns
    -------
    HarmonySolution

    Raises
    ------
    ValueError
        On ``n_tiles < 1``, ``n_channels < 1`` or an anchor index out of range.
    """
    if n_tiles < 1 or n_channels < 1:
        raise ValueError(f"need n_tiles >= 1 and n_channels >= 1, got {n_tiles}, {n_channels}")
    if isinstance(anchor, str) and anchor != "mean":
        raise ValueError(f"anchor must be a tile index, 'mean' or None, got {anchor!r}")
    if isinstance(anchor, (int, np.integer)) and not 0 <= anchor < n_tiles:
        raise ValueError(f"anchor {anchor} outside 0..{n_tiles - 1}")
    kept, dropped = _filter_overlaps(overlaps, n_tiles, n_channels, min_samples)
    frame = _CoordFrame.from_overlaps(kept, image_shape)
    score = _tile_scores(kept, n_tiles)
    main_anchor = int(anchor) if isinstance(anchor, (int, np.integer)) else int(np.argmax(score))
    plan, reasons, disconnected = _anchor_plan(kept, n_tiles, main_anchor, score)
    ratios = [_pair_log_ratios(ov, n_channels, plane, frame, min_stars) for ov in kept]
    params = np.zeros((n_tiles, n_channels, 4))  # gain, offset, a, b (normalised coordinates)
    params[:, :, 0] = 1.0
    inlier_masks: dict[int, np.ndarray] = {}
    for comp, comp_anchor in plan:
        comp_ov = [k for k, ov in enumerate(kept) if ov.i in comp]
        _solve_component(kept, ratios, comp_ov, comp, comp_anchor, frame, plane, params, inlier_masks)
        if anchor == "mean":
            _renormalise_to_mean(params, comp)
    corrections = [_to_correction(params[t], frame, reasons[t]) for t in range(n_tiles)]
    rms_before, rms_after = _harmony_rms(kept, inlier_masks, corrections, n_channels)
    logger.debug("harmony: anchor=%s rms before=%s after=%s", main_anchor, rms_before, rms_after)
    return HarmonySolution(corrections=corrections, anchor=None if anchor == "mean" else main_anchor,
                           dropped_overlaps=tuple(dropped), disconnected_tiles=tuple(disconnected),
                           rms_before=rms_before, rms_after=rms_after,
                           gain_estimators=tuple((ov.i, ov.j, r.methods) for ov, r in zip(kept, ratios, strict=True)))


def sample_overlap(values_i: np.ndarray, values_j: np.ndarray, valid_i: np.ndarray, valid_j: np.ndarray,
                   *, block: int = 16, origin: tuple = (0, 0)) -> OverlapSamples:
    """Turn two tiles reprojected onto one grid window into star-robust block-median samples.

    Parameters
    ----------
    values_i, values_j : numpy.ndarray
        ``(H, W)`` or ``(H, W, C)`` values of the two tiles on the same window.
    valid_i, valid_j : numpy.ndarray
        ``(H, W)`` bool masks (True where the tile has data; non-finite pixels are invalid too).
    block : int
        Block size in pixels. A block counts when at least half of its pixels are valid in both.
    origin : tuple of int
        ``(row, col)`` of the window's first pixel in the global grid, added to the positions.

    Returns
    -------
    OverlapSamples
        ``x, y`` (N,) block positions (mean of the pixels used) in global pixels, ``values_i,
        values_j`` (N, C) star-clipped block medians. N may be 0.
    """
    if values_i.shape != values_j.shape:
        raise ValueError(f"tile windows differ in shape: {values_i.shape} vs {values_j.shape}")
    if block < 1:
        raise ValueError(f"block must be >= 1, got {block}")
    valid = np.asarray(valid_i, dtype=bool) & np.asarray(valid_j, dtype=bool)
    rows = np.arange(values_i.shape[0], dtype=np.float64) + origin[0]
    cols = np.arange(values_i.shape[1], dtype=np.float64) + origin[1]
    blocks = block_medians([as_hwc(values_i), as_hwc(values_j)], valid, rows, cols, block)
    if blocks is None:
        n_ch = 1 if values_i.ndim == 2 else values_i.shape[2]
        empty = np.zeros(0)
        return OverlapSamples(empty, empty, np.zeros((0, n_ch)), np.zeros((0, n_ch)))
    return OverlapSamples(blocks.cols, blocks.rows, blocks.values[0], blocks.values[1])


# ---------------------------------------------------------------------------------------------
# Private
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _CoordFrame:
    """Normalisation of global pixel coordinates: ``x_n = (x - cx) / hx``, ``y_n = (y - cy) / hy``."""

    cx: float
    cy: float
    hx: float
    hy: float

    @classmethod
    def from_overlaps(cls, overlaps: list, image_shape: tuple | None) -> _CoordFrame:
        if image_shape is not None:
            h, w = float(image_shape[0]), float(image_shape[1])
            return cls(cx=w / 2.0, cy=h / 2.0, hx=max(w / 2.0, 0.5), hy=max(h / 2.0, 0.5))
        if not overlaps:
            return cls(0.0, 0.0, 1.0, 1.0)
        x = np.concatenate([ov.x for ov in overlaps])
        y = np.concatenate([ov.y for ov in overlaps])
        return cls(cx=float(x.min() + x.max()) / 2, cy=float(y.min() + y.max()) / 2,
                   hx=max(float(np.ptp(x)) / 2, 0.5), hy=max(float(np.ptp(y)) / 2, 0.5))


def _filter_overlaps(overlaps: Sequence[TileOverlap], n_tiles: int, n_channels: int,
                     min_samples: int) -> tuple[list, list]:
    """Keep valid overlaps with enough finite samples (values as (N, C) float64); log the others."""
    kept, dropped = [], []
    for ov in overlaps:
        why = _overlap_problem(ov, n_tiles, n_channels)
        if why is None:
            vi = np.asarray(ov.values_i, dtype=np.float64).reshape(-1, n_channels)
            vj = np.asarray(ov.values_j, dtype=np.float64).reshape(-1, n_channels)
            x, y = np.asarray(ov.x, np.float64).ravel(), np.asarray(ov.y, np.float64).ravel()
            good = np.isfinite(vi).all(axis=1) & np.isfinite(vj).all(axis=1) & np.isfinite(x) & np.isfinite(y)
            if good.sum() < min_samples:
                why = f"{int(good.sum())} usable samples < min_samples={min_samples}"
        if why is not None:
            logger.info("harmony: overlap (%d, %d) dropped: %s", ov.i, ov.j, why)
            dropped.append((int(ov.i), int(ov.j)))
            continue
        kept.append(TileOverlap(int(ov.i), int(ov.j), x[good], y[good], vi[good], vj[good], float(ov.weight),
                                **_clean_stars(ov, n_channels)))
    return kept, dropped


def _clean_stars(ov: TileOverlap, n_channels: int) -> dict:
    """Star fields of an overlap as float64 (M, C) arrays; none (logged) when their sizes disagree."""
    si, sj = np.asarray(ov.star_i, dtype=np.float64), np.asarray(ov.star_j, dtype=np.float64)
    m = si.shape[0] if si.ndim else 0
    err = None if ov.star_err is None else np.asarray(ov.star_err, dtype=np.float64)
    sizes_ok = si.size == sj.size == m * n_channels and (err is None or err.size == si.size)
    if m == 0 or not sizes_ok:
        if m and not sizes_ok:
            logger.warning("harmony: overlap (%d, %d): star samples of inconsistent sizes ignored", ov.i, ov.j)
        return {}
    return {"star_i": si.reshape(m, n_channels), "star_j": sj.reshape(m, n_channels),
            "star_err": None if err is None else err.reshape(m, n_channels),
            "star_x": np.asarray(ov.star_x), "star_y": np.asarray(ov.star_y)}


def _overlap_problem(ov: TileOverlap, n_tiles: int, n_channels: int) -> str | None:
    """Why an overlap cannot be used, None if it can."""
    if not (0 <= ov.i < n_tiles and 0 <= ov.j < n_tiles) or ov.i == ov.j:
        return f"tile indices ({ov.i}, {ov.j}) invalid for {n_tiles} tiles"
    n = np.asarray(ov.x).size
    if np.asarray(ov.y).size != n or np.asarray(ov.values_i).size != n * n_channels \
            or np.asarray(ov.values_j).size != n * n_channels:
        return "sample arrays disagree in size"
    if not ov.weight > 0:
        return f"weight {ov.weight} <= 0"
    return None


def _tile_scores(overlaps: list, n_tiles: int) -> np.ndarray:
    """Weighted number of overlap samples per tile (how well each tile is tied to the others)."""
    score = np.zeros(n_tiles)
    for ov in overlaps:
        score[ov.i] += ov.n_samples * ov.weight
        score[ov.j] += ov.n_samples * ov.weight
    return score


def _components(overlaps: list, n_tiles: int) -> list[list[int]]:
    """Connected components of the overlap graph (lists of tile indices, sorted)."""
    parent = list(range(n_tiles))

    def root(t: int) -> int:
        while parent[t] != t:
            parent[t] = parent[parent[t]]
            t = parent[t]
        return t

    for ov in overlaps:
        parent[root(ov.i)] = root(ov.j)
    groups: dict[int, list[int]] = {}
    for t in range(n_tiles):
        groups.setdefault(root(t), []).append(t)
    return list(groups.values())


def _anchor_plan(overlaps: list, n_tiles: int, main_anchor: int,
                 score: np.ndarray) -> tuple[list, list, list]:
    """Components to solve with their anchors, per-tile reasons, and the tiles cut off the anchor.

    A tile alone keeps the identity; a component without the main anchor is anchored on its own
    best-covered tile. Both are logged.
    """
    plan: list[tuple[list, int]] = []
    reasons: list[str | None] = [None] * n_tiles
    disconnected: list[int] = []
    for comp in _components(overlaps, n_tiles):
        if len(comp) == 1:
            if comp[0] != main_anchor or not overlaps:
                reasons[comp[0]] = "no usable overlap with any other tile: identity"
        elif main_anchor in comp:
            plan.append((comp, main_anchor))
        else:
            own = comp[int(np.argmax(score[comp]))]
            plan.append((comp, own))
            for t in comp:
                reasons[t] = (f"not connected to anchor tile {main_anchor}; "
                              f"component anchored on its tile {own}")
        if main_anchor not in comp:
            disconnected.extend(comp)
    for t in disconnected:
        logger.info("harmony: tile %d %s", t, reasons[t])
    return plan, reasons, sorted(disconnected)


def _solve_component(overlaps: list, ratios: list, comp_ov: list, comp: list, anchor: int, frame: _CoordFrame,
                     plane: bool, params: np.ndarray, inliers: dict) -> None:
    """Solve gains then offsets/planes of one connected component, channel by channel (in place)."""
    free = [t for t in comp if t != anchor]
    index = {t: k for k, t in enumerate(free)}
    for c in range(params.shape[1]):
        log_gain = _solve_log_gains([overlaps[k] for k in comp_ov], [ratios[k] for k in comp_ov], c, index)
        for t in free:
            params[t, c, 0] = np.exp(log_gain[index[t]])
        lin, masks = _solve_offsets(overlaps, comp_ov, c, index, params[:, c, 0], plane, frame)
        for t in free:
            params[t, c, 1:] = lin[index[t]]
        for k, m in masks.items():
            inliers[k] = m if k not in inliers else inliers[k] & m


class _PairRatios(NamedTuple):
    """Per-channel log gain ratio ``log(v_i / v_j)`` of one overlap, its error and its estimator."""

    log_ratio: np.ndarray   # (C,), NaN where no estimate
    se: np.ndarray          # (C,), inf where no estimate
    methods: tuple          # per channel: "stars", "structure" or "none"


def _pair_log_ratios(ov: TileOverlap, n_ch: int, plane: bool, frame: _CoordFrame, min_stars: int) -> _PairRatios:
    """Gain ratio per channel from the stars when there are enough, else from the diffuse structure (logged)."""
    log_ratio, se, methods = np.full(n_ch, np.nan), np.full(n_ch, np.inf), []
    for c in range(n_ch):
        method = "none"
        if ov.n_stars:
            err = None if ov.star_err is None else ov.star_err[:, c]
            log_ratio[c], se[c] = _star_log_ratio(ov.star_i[:, c], ov.star_j[:, c], err, min_stars)
            method = "stars" if np.isfinite(se[c]) else method
        if method == "none":
            ratio, ratio_se = _pair_ratio(ov, c, plane, frame)
            if ratio is not None:
                log_ratio[c], se[c] = np.log(ratio), np.hypot(ratio_se / ratio, _HARMONY_DIFFUSE_LOG_FLOOR)
                method = "structure"
        methods.append(method)
    logger.info("harmony: overlap (%d, %d) gain ratio from %s (%d stars): %s +- %s", ov.i, ov.j,
                "/".join(methods), ov.n_stars, np.round(np.exp(log_ratio), 4).tolist(), np.round(se, 4).tolist())
    return _PairRatios(log_ratio, se, tuple(methods))


def _star_log_ratio(si: np.ndarray, sj: np.ndarray, err: np.ndarray | None,
                    min_stars: int) -> tuple[float, float]:
    """Robust error-weighted mean of ``log(si / sj)`` and its uncertainty; ``(nan, inf)`` with too few stars.

    Start from the weighted median, clip at 4 robust sigmas of the error-normalised residuals and
    average the rest; the uncertainty is the formal one scaled up by the residuals' MAD-based scale
    (when the stars scatter more than their errors say), with a small systematic floor.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = np.isfinite(si) & np.isfinite(sj) & (si > 0) & (sj > 0)
        if err is not None:
            ok &= np.isfinite(err) & (err > 0)
    if ok.sum() < max(min_stars, 1):
        return float("nan"), float("inf")
    lr = np.log(si[ok] / sj[ok])
    if err is None:
        s = np.full(lr.size, max(float(mad_sigma(lr)), _STAR_LOG_FLOOR))
    else:
        s = np.hypot(err[ok], _STAR_LOG_FLOOR)
    w = 1.0 / s ** 2
    centre, scale = _weighted_median(lr, w), 1.0
    for _ in range(3):
        z = (lr - centre) / s
        scale = max(1.0, float(mad_sigma(z, center=0.0)))
        keep = np.abs(z) <= _STAR_CLIP * scale
        if keep.sum() < max(min_stars, 1):
            return float("nan"), float("inf")
        centre = float(np.sum(w[keep] * lr[keep]) / np.sum(w[keep]))
    return centre, float(np.hypot(scale / np.sqrt(np.sum(w[keep])), _STAR_PAIR_FLOOR))


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """Weighted median (lower)."""
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, 0.5 * cum[-1])])


def _solve_log_gains(overlaps: list, ratios: list, c: int, index: dict) -> np.ndarray:
    """Weighted least squares on log gain differences over the overlap graph, prior toward 0."""
    n_free = len(index)
    mat = np.eye(n_free) / _HARMONY_LOG_GAIN_PRIOR ** 2
    rhs = np.zeros(n_free)
    for ov, est in zip(overlaps, ratios, strict=True):
        log_ratio, se = est.log_ratio[c], est.se[c]
        if not np.isfinite(se):
            continue
        w = ov.weight / se ** 2
        # corrected gains make g_i v_i == g_j v_j, and v_i ~ ratio v_j: log g_i - log g_j = -log ratio
        row = np.zeros(n_free)
        if ov.i in index:
            row[index[ov.i]] = 1.0
        if ov.j in index:
            row[index[ov.j]] = -1.0
        mat += w * np.outer(row, row)
        rhs += w * row * -log_ratio
    return np.linalg.solve(mat, rhs)


def _pair_ratio(ov: TileOverlap, c: int, plane: bool, frame: _CoordFrame) -> tuple[float | None, float]:
    """Ratio ``v_i / v_j`` of the shared structure (TLS after removing offset/plane), with its error.

    Gross outliers are first clipped on the plain difference ``v_i - v_j``; the TLS fit is then
    iterated with clipping of its orthogonal residuals. None when the structure is too weak.
    """
    vi, vj = ov.values_i[:, c], ov.values_j[:, c]
    basis = _offset_design(ov, frame, plane)
    keep = _clip_to_surface(vi - vj, basis)
    ratio, corr2 = None, 0.0
    for _ in range(_MAX_ITER):
        ratio, corr2 = _tls_ratio(vi[keep], vj[keep], basis[keep])
        if ratio is None:
            return None, np.inf
        new_keep = _clip_to_surface((vi - ratio * vj) / np.sqrt(1.0 + ratio ** 2), basis, keep, max_iter=1)
        if new_keep.sum() < basis.shape[1] + 3 or np.array_equal(new_keep, keep):
            break
        keep = new_keep
    if ratio is None or corr2 < _HARMONY_MIN_CORR ** 2:  # None here only if the loop never ran
        return None, np.inf
    se = ratio * np.sqrt(max(1.0 - corr2, 1e-12) / (corr2 * max(keep.sum() - basis.shape[1] - 1, 1)))
    return float(ratio), float(se)


def _tls_ratio(vi: np.ndarray, vj: np.ndarray, basis: np.ndarray) -> tuple[float | None, float]:
    """TLS slope of ``vi`` on ``vj`` with ``basis`` projected out, and their squared correlation."""
    both = np.stack([vi, vj], axis=1)
    p, q = (both - basis @ np.linalg.lstsq(basis, both, rcond=None)[0]).T
    spp, sqq, spq = float(p @ p), float(q @ q), float(p @ q)
    if spq <= 0:
        return None, 0.0
    ratio = (spp - sqq + np.sqrt((spp - sqq) ** 2 + 4.0 * spq ** 2)) / (2.0 * spq)
    return ratio, spq ** 2 / (spp * sqq)


def _clip_to_surface(values: np.ndarray, basis: np.ndarray, keep: np.ndarray | None = None, *,
                     max_iter: int = _MAX_ITER) -> np.ndarray:
    """Samples within 3.5 robust sigma of the least-squares ``basis`` fit (clip-and-refit)."""
    keep = np.ones(values.size, dtype=bool) if keep is None else keep
    for _ in range(max_iter):
        coef = np.linalg.lstsq(basis[keep], values[keep], rcond=None)[0]
        res = values - basis @ coef
        sigma = robust_sigma(res[keep])
        if sigma <= 0:
            break
        new_keep = np.abs(res - np.median(res[keep])) <= _HARMONY_CLIP_SIGMA * sigma
        if new_keep.sum() < basis.shape[1] + 3 or np.array_equal(new_keep, keep):
            break
        keep = new_keep
    return keep


def _offset_design(ov: TileOverlap, frame: _CoordFrame, plane: bool) -> np.ndarray:
    """(N, n_lin) design of the offset (and plane) terms at the overlap's samples."""
    ones = np.ones(ov.n_samples)
    if not plane:
        return ones[:, None]
    return np.stack([ones, (ov.x - frame.cx) / frame.hx, (ov.y - frame.cy) / frame.hy], axis=1)


def _solve_offsets(overlaps: list, comp_ov: list, c: int, index: dict, gains: np.ndarray, plane: bool,
                   frame: _CoordFrame) -> tuple[np.ndarray, dict]:
    """IRLS for offsets (+ planes) with gains fixed; returns (n_free, 3) and inlier masks per overlap.

    Each overlap is weighted by its own robust residual scale and clipped at 3.5 sigma; the normal
    equations are accumulated overlap by overlap on the few columns each one touches.
    """
    n_lin = 3 if plane else 1
    n_par = len(index) * n_lin
    rows = {k: _offset_rows(overlaps[k], c, index, gains, plane, frame) for k in comp_ov}
    masks = {k: np.ones(overlaps[k].n_samples, dtype=bool) for k in comp_ov}
    sigmas = {k: max(robust_sigma(rows[k][2]), 1e-12) for k in comp_ov}
    sol: np.ndarray = np.zeros(n_par)
    for it in range(_MAX_ITER):
        mat, rhs = np.zeros((n_par, n_par)), np.zeros(n_par)
        for k in comp_ov:
            design, cols, target = rows[k]
            w = masks[k] * overlaps[k].weight / sigmas[k] ** 2
            mat[np.ix_(cols, cols)] += design.T @ (design * w[:, None])
            rhs[cols] += design.T @ (w * target)
        mat += np.eye(n_par) * 1e-9 * max(np.trace(mat) / max(n_par, 1), 1e-30)
        sol = np.linalg.solve(mat, rhs)
        changed = False
        for k in comp_ov:
            design, cols, target = rows[k]
            res = target - design @ sol[cols]
            sigmas[k] = max(robust_sigma(res[masks[k]]), 1e-12)
            new = np.abs(res - np.median(res[masks[k]])) <= _HARMONY_CLIP_SIGMA * sigmas[k]
            if new.sum() >= n_lin + 2 and not np.array_equal(new, masks[k]):
                masks[k], changed = new, True
        if not changed and it > 0:
            break
    lin = np.zeros((len(index), 3))
    lin[:, :n_lin] = sol.reshape(len(index), n_lin)
    return lin, masks


def _offset_rows(ov: TileOverlap, c: int, index: dict, gains: np.ndarray, plane: bool,
                 frame: _CoordFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows ``design @ params[cols] ~ target`` of one overlap, ``target = -(g_i v_i - g_j v_j)``.

    Only the free tiles' columns appear (the anchor's parameters are fixed at zero).
    """
    local = _offset_design(ov, frame, plane)
    n_lin = local.shape[1]
    parts: list[np.ndarray] = []
    cols: list[int] = []
    for tile, sign in ((ov.i, 1.0), (ov.j, -1.0)):
        if tile in index:
            parts.append(sign * local)
            cols.extend(range(index[tile] * n_lin, (index[tile] + 1) * n_lin))
    design = np.concatenate(parts, axis=1) if parts else np.zeros((ov.n_samples, 0))
    target = -(gains[ov.i] * ov.values_i[:, c] - gains[ov.j] * ov.values_j[:, c])
    return design, np.asarray(cols, dtype=np.intp), target


def _renormalise_to_mean(params: np.ndarray, comp: list) -> None:
    """Apply one common affine map so that the component's mean gain is 1 and mean offset/plane 0."""
    sub = params[comp]                                   # (n, C, 4)
    mean_gain = sub[:, :, 0].mean(axis=0)
    mean_lin = sub[:, :, 1:].mean(axis=0)
    params[comp, :, 0] = sub[:, :, 0] / mean_gain
    params[comp, :, 1:] = (sub[:, :, 1:] - mean_lin) / mean_gain[:, None]


def _to_correction(p: np.ndarray, frame: _CoordFrame, reason: str | None) -> TileCorrection:
    """Normalised (gain, offset, a, b) per channel -> correction in global pixel coordinates."""
    gain, off, a, b = p[:, 0], p[:, 1], p[:, 2], p[:, 3]
    plane = np.stack([a / frame.hx, b / frame.hy], axis=1)
    offset = off - a * frame.cx / frame.hx - b * frame.cy / frame.hy
    return TileCorrection(gain=gain.copy(), offset=offset, plane=plane, reason=reason)


def _harmony_rms(overlaps: list, inliers: dict, corrections: list,
                 n_ch: int) -> tuple[np.ndarray, np.ndarray]:
    """RMS of tile differences on the kept overlap samples, before and after correction."""
    before, after = [], []
    for k, ov in enumerate(overlaps):
        m = inliers.get(k, np.ones(ov.n_samples, dtype=bool))
        vi, vj, x, y = ov.values_i[m], ov.values_j[m], ov.x[m], ov.y[m]
        before.append(vi - vj)
        after.append(corrections[ov.i].apply(vi, x, y) - corrections[ov.j].apply(vj, x, y))
    if not before:
        return np.full(n_ch, np.nan), np.full(n_ch, np.nan)
    b, a = np.concatenate(before), np.concatenate(after)
    return np.sqrt(np.mean(b ** 2, axis=0)), np.sqrt(np.mean(a ** 2, axis=0))
