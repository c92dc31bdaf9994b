"""Phase 3: one master tile, from a group of scanned frames to ``master_tile_NNN.fits``.

load -> align (transforms) -> canvas (:mod:`zemosaic.pipeline.tile_canvas`: the grid grows to cover the group)
-> warp -> coverage -> stack -> quality crop -> :func:`_apply_lecropper_pipeline` (the mission's overlap-aware
alpha) -> ``MT_EDGE_TRIM`` -> write. The masker is called through :mod:`zemosaic.masks`,
the module the top-level name ``lecropper`` stands for, so a script that replaces
``lecropper.mask_altaz_artifacts`` changes what this pipeline calls.
"""
from __future__ import annotations

import inspect
import logging
import time
import weakref
from collections import Counter, deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from zemosaic import masks as lecropper
from zemosaic._numba_pool import n_threads
from zemosaic._stats import mad_sigma
from zemosaic.align.stars import luminance_plane
from zemosaic.align.transform import wcs_transform
from zemosaic.config import ZeMosaicConfig, as_config
from zemosaic.io import fits as fits_io
from zemosaic.io import headers
from zemosaic.masks import CoverageDecision
from zemosaic.pipeline import frame_gate, tile_canvas, tile_drizzle
from zemosaic.pipeline.clustering import unit_vectors
from zemosaic.pipeline.report import TileReport
from zemosaic.progress import ProgressCallback, ProgressEvent
from zemosaic.stack import coverage as align_stack
from zemosaic.stack import cpu as stack_cpu
from zemosaic.stack import gpu as stack_gpu
from zemosaic.stack.frame_cache import FrameCache, ReleasedOnRead, release_rows
from zemosaic.stack.options import StackOptions

__all__ = [
    "ScannedFrame",
    "MasterTileResult",
    "create_master_tile",
    "stack_options",
    "stacker",
    "resolve_cleanup",
    "crop_wcs",
]

log = logging.getLogger(__name__)

_REPORT_FIELDS = frozenset(f.name for f in fields(TileReport))


@dataclass(frozen=True)
class ScannedFrame:
    """A frame that passed Phase 1 (headers and WCS readable)."""

    path: Path
    info: Any  # fits_io.FrameInfo


@dataclass
class MasterTileResult:
    """A written master tile and what was decided while building it."""

    tile_id: int
    path: Path | None
    report: TileReport
    failed_inputs: list[tuple[Path, str]] = field(default_factory=list)




def resolve_cleanup(cfg: ZeMosaicConfig, mount_modes: Sequence[str | None]) -> tuple[bool, str]:
    """Whether the Alt-Az cleanup runs for a tile, and why.

    ``auto``: on when any frame is Alt-Az (EQMODE=0) or of unknown mount (field rotation cannot be
    ruled out); off when every frame is equatorial.
    """
    setting = cfg.altaz_cleanup_enabled
    if setting in ("true", "false"):
        return setting == "true", f"altaz_cleanup_enabled={setting}"
    counts = Counter(m or "unknown" for m in mount_modes)
    enabled = counts.get("altaz", 0) + counts.get("unknown", 0) > 0
    return enabled, "auto: mounts " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))


def create_master_tile(
    frames: Sequence[ScannedFrame],
    tile_id: int,
    cfg: ZeMosaicConfig,
    tiles_dir: Path,
    *,
    reference: int = 0,
    progress_callback: ProgressCallback | None = None,
) -> MasterTileResult:
    """Build, clean and write ``master_tile_NNN.fits`` from one group of scanned frames.

    Frames that cannot be loaded, have a different size or no finite pixel, or cannot be aligned
    are excluded with their reason (listed in ``failed_inputs``); the tile is built from the rest.
    A group left with fewer usable (loaded and aligned) frames than ``cfg.min_frames_per_tile`` is
    not turned into a tile: it is skipped with one WARNING line, ``path`` is None and its remaining
    frames are listed in ``failed_inputs`` with that reason.
    """
    tr = TileReport(tile_id=tile_id, frames_in_group=len(frames))
    too_few = _too_few_frames(len(frames), cfg)
    if too_few is not None:  # not even the whole group reaches the minimum: nothing is loaded
        log.warning("master tile %d skipped: %s", tile_id, too_few)
        return _skipped(tr, [(f.path, too_few) for f in frames])
    debug = tile_id in cfg.debug_tile_ids
    cleanup, tr.cleanup_reason = resolve_cleanup(cfg, [f.info.mount_mode for f in frames])
    tr.cleanup_enabled = cleanup
    need_coverage = cleanup and cfg.altaz_use_coverage
    log.info("MT_PIPELINE_FLAGS tile_id=%d cleanup=%s (%s) use_coverage=%s coverage_map=%s propagate_mask=True "
             "quality_crop=%s edge_trim=%s", tile_id, cleanup, tr.cleanup_reason, cfg.altaz_use_coverage,
             need_coverage, cfg.quality_crop_enabled, cfg.mt_edge_trim_enabled)
    t0 = time.perf_counter()
    tiles_dir.mkdir(parents=True, exist_ok=True)
    loading = _load_group(frames, reference, cfg, tiles_dir)
    if loading.group is None:
        log.warning("master tile %d skipped: no loadable frame", tile_id)
        return _skipped(tr, loading.failed)
    with loading.group.cache:
        tr.timings_s["load"] = round(time.perf_counter() - t0, 3)
        stacked = _align_and_stack(loading.group, tile_id, cfg, need_coverage, debug, tiles_dir, progress_callback)
    failed = loading.failed + stacked.failed
    _record(tr, stacked.notes, frames_failed=[{"path": str(p), "reason": r} for p, r in failed])
    if stacked.tile is None:
        return MasterTileResult(tile_id, None, tr, failed)
    finished = _finish_tile(stacked.tile, tile_id, cfg, cleanup, tr.cleanup_reason, tr.coverage_decision)
    _record(tr, finished.notes)
    path = _write_master_tile(finished, tile_id, cfg, tr, tiles_dir)
    _record(tr, {"path": str(path)})
    tr.timings_s["total"] = round(time.perf_counter() - t0, 3)
    return MasterTileResult(tile_id, path, tr, failed)


def _skipped(tr: TileReport, failed: list[tuple[Path, str]]) -> MasterTileResult:
    """The result of a group that gives no tile, its frames listed with their reasons."""
    _record(tr, {}, frames_failed=[{"path": str(p), "reason": r} for p, r in failed])
    return MasterTileResult(tr.tile_id, None, tr, failed)


def _record(tr: TileReport, notes: Mapping[str, Any], **more: Any) -> None:
    """Put what the steps of a tile returned into its report (``timings_s`` entries are added, not replaced)."""
    for name, value in {**notes, **more}.items():
        if name == "timings_s":
            tr.timings_s.update(value)
        elif name in _REPORT_FIELDS:
            setattr(tr, name, value)
        else:
            raise AttributeError(f"TileReport has no field {name!r}")


@dataclass(frozen=True)
class _Loading:
    """The group as loaded (None: no frame could be) and the frames dropped on the way, with their reasons."""

    group: _LoadedGroup | None
    failed: list[tuple[Path, str]]


@dataclass
class _LoadedGroup:
    """The loaded frames of a group; the reference is always slot 0 (the loader puts it first)."""

    cache: FrameCache
    paths: list[Path]
    wcs: Any
    measured: list[frame_gate.MeasuredFrame] = field(default_factory=list)  # one detection pass per frame
    frame_wcs: list[Any] = field(default_factory=list)  # per slot: the frame's WCS from Phase 1b (None: unknown)

    def predicted_transforms(self) -> list[np.ndarray | None]:
        """Per slot, the frame -> reference mapping the frames' WCS predict (Phase 1b's registration, reused)."""
        shape = self.cache.shape[1:3]
        return [wcs_transform(w, self.wcs, shape) for w in self.frame_wcs] if self.frame_wcs else \
            [None] * len(self.paths)


def _load_group(frames, reference, cfg, tiles_dir) -> _Loading:
    """Read + debayer every frame into a disk cache and choose the group's reference (put in slot 0).

    Frames whose header size disagrees with the group's majority, unreadable frames and frames with
    no usable pixel (all NaN, constant such as all zero) are dropped with their reason. The reference
    is the most central frame (``reference`` first, then by distance to the group centre) whose
    quality agrees with the group: enough stars and a sky level like the others' (:func:`_choose_reference`).
    """
    shape, order, failed = _majority_shape(frames, reference)
    cache = FrameCache(len(order), shape, parent=tiles_dir, name="raw")
    paths: list[Path] = []
    infos: list[Any] = []
    quality: list[_FrameQuality] = []
    try:
        for k, (data, reason, q) in zip(order, _read_ahead([frames[k].path for k in order], cfg, shape),
                                        strict=True):
            path = frames[k].path
            if reason is None and q is not None and q.problem is not None:
                reason = q.problem
            if reason is not None or data is None or q is None:
                failed.append((path, reason or "not loaded"))
                continue
            cache[len(paths)] = data
            paths.append(path)
            infos.append(frames[k].info)
            quality.append(q)
    except BaseException:  # an interruption or a disk error: the cache files go, then the error goes on
        cache.close()
        raise
    if not paths:
        cache.close()
        return _Loading(None, failed)
    slot = _choose_reference(quality, [p.name for p in paths])
    if slot != 0:
        first, chosen = cache.read(0), cache.read(slot)
        cache[0], cache[slot] = chosen, first
        paths[0], paths[slot] = paths[slot], paths[0]
        infos[0], infos[slot] = infos[slot], infos[0]
        quality[0], quality[slot] = quality[slot], quality[0]
    measured = [q.measured for q in quality]
    return _Loading(_LoadedGroup(cache, paths, infos[0].wcs, [m for m in measured if m is not None],
                                 [getattr(info, "wcs", None) for info in infos]), failed)


def _read_ahead(paths: Sequence[Path], cfg: ZeMosaicConfig,
                shape) -> Iterator[tuple[np.ndarray | None, str | None, _FrameQuality | None]]:
    """:func:`_load_frame` then :func:`_frame_quality` of each path, yielded in order, two frames at a time in
    threads while the caller stores the previous one (FITS decoding, the debayer, numpy's array work and the
    star finder's kernels release the GIL: the two cores overlap). At most three frames are in RAM; an
    interruption waits for the frames being read, then goes on."""
    if not paths:
        return
    ahead = max(1, min(2, n_threads()))
    with ThreadPoolExecutor(max_workers=ahead, thread_name_prefix="zemosaic-read") as pool:
        pending = deque(pool.submit(_load_and_measure, p, cfg, shape) for p in paths[:ahead])
        for k in range(len(paths)):
            current = pending.popleft().result()
            if k + ahead < len(paths):
                pending.append(pool.submit(_load_and_measure, paths[k + ahead], cfg, shape))
            yield current


def _load_and_measure(path: Path, cfg: ZeMosaicConfig,
                      shape) -> tuple[np.ndarray | None, str | None, _FrameQuality | None]:
    """One frame read and debayered (:func:`_load_frame`) and its statistics (:func:`_frame_quality`)."""
    data, reason = _load_frame(path, cfg, shape)
    return data, reason, (None if data is None else _frame_quality(data, cfg))


def _majority_shape(frames, reference) -> tuple[tuple[int, ...], list[int], list[tuple[Path, str]]]:
    """The frame shape most of the group has (the reference's on a tie), the frames of that shape, most central
    first, and the others with their reason (the frame that disagrees with the majority goes)."""
    shapes = [tuple(f.info.shape) + ((3,) if f.info.n_channels == 3 else ()) for f in frames]
    counts = Counter(shapes)
    top = max(counts.values())
    shape = shapes[reference] if counts[shapes[reference]] == top else counts.most_common(1)[0][0]
    failed = [(frames[k].path, f"image shape {sh} differs from the group's majority {shape} "
                               f"({counts[shape]} of {len(frames)} frames)")
              for k, sh in enumerate(shapes) if sh != shape]
    return shape, [k for k in _central_order(frames, reference) if shapes[k] == shape], failed


def _central_order(frames, reference) -> list[int]:
    """Frame indices: ``reference`` first, then by angular distance to the group's mean pointing."""
    radec = np.array([f.info.center_radec for f in frames], dtype=float)
    if radec.ndim != 2 or not np.all(np.isfinite(radec)):
        return [reference] + [k for k in range(len(frames)) if k != reference]
    xyz = unit_vectors(radec[:, 0], radec[:, 1])
    distance = np.linalg.norm(xyz - xyz.mean(axis=0), axis=1)
    rest = sorted((k for k in range(len(frames)) if k != reference), key=lambda k: (distance[k], k))
    return [reference] + rest


def _load_frame(path: Path, cfg: ZeMosaicConfig, shape) -> tuple[np.ndarray | None, str | None]:
    """One frame's pixels, or None and the reason it cannot be used.

    A deliberate per-frame boundary (STYLE.md): whatever goes wrong while reading or debayering one
    frame rejects that frame with the error as its reason (traceback in the DEBUG log); memory
    exhaustion is the machine's problem and propagates.
    """
    try:
        # the frame's WCS is known from Phase 1b (its header's, or a plate solution)
        data = fits_io.read_frame_pixels(path, debayer_method=cfg.debayer_method)
    except fits_io.FitsInputError as exc:
        return None, exc.reason_for(path)
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - deliberate, logged per-frame boundary (see docstring)
        log.debug("frame %s: load error", path, exc_info=True)
        return None, f"cannot load the frame ({type(exc).__name__}: {exc})"
    if data.shape != shape:
        return None, f"image shape {data.shape} differs from the group's {shape}"
    return data, None


@dataclass(frozen=True)
class _FrameQuality:
    """What the reference choice looks at: star count, sky level and noise of the luminance."""

    n_stars: int
    sky: float
    noise: float
    problem: str | None = None
    measured: frame_gate.MeasuredFrame | None = None  # the frame's stars and quality measures


def _frame_quality(data: np.ndarray, cfg: ZeMosaicConfig) -> _FrameQuality:
    """Statistics of one loaded frame; ``problem`` says why it cannot be stacked at all (no finite pixel,
    constant image)."""
    finite = np.isfinite(data)
    if not finite.any():
        return _FrameQuality(0, float("nan"), 0.0, "no finite pixel (all NaN/Inf)")
    lum = luminance_plane(data)
    sample = lum[::2, ::2]
    sky = float(np.median(sample))
    noise = float(mad_sigma(sample, center=sky))
    if float(sample.max()) == float(sample.min()):
        return _FrameQuality(0, sky, 0.0, f"constant image (every pixel = {sky:g}): no signal")
    measured = frame_gate.measure_loaded(lum, cfg.align_detection_sigma, cfg.align_min_area)
    return _FrameQuality(len(measured.xy), sky, noise, measured=measured)


def _choose_reference(quality: Sequence[_FrameQuality], names: Sequence[str]) -> int:
    """Slot of the reference: the first (most central) frame with at least half the group's median star count
    (and 3 stars), a sky level within the group's spread and, where measured, stars no softer than 1.25 x the
    group's median FWHM and no more elongated than its median + 0.1; slot 0 when none qualifies."""
    stars = np.array([q.n_stars for q in quality], dtype=float)
    sky = np.array([q.sky for q in quality], dtype=float)
    noise = np.array([q.noise for q in quality], dtype=float)
    med_sky = float(np.median(sky))
    tol = max(5.0 * float(mad_sigma(sky, center=med_sky)), 3.0 * float(np.median(noise)))
    min_stars = max(3.0, 0.5 * float(np.median(stars)))
    sharp = _sharp_enough([q.measured for q in quality])
    for slot, q in enumerate(quality):
        if q.n_stars >= min_stars and abs(q.sky - med_sky) <= tol and sharp[slot]:
            if slot != 0:
                first = quality[0]
                log.warning("reference frame %s not used as reference (%d stars, sky %.4g; group median %d stars, "
                            "sky %.4g): %s is the reference", names[0], first.n_stars, first.sky,
                            int(np.median(stars)), med_sky, names[slot])
            return slot
    return 0


def _sharp_enough(measured) -> list[bool]:
    """Per frame, whether its stars are about as sharp and round as the group's (True where not measured)."""
    fwhm = [m.quality.fwhm_px if m is not None else None for m in measured]
    elong = [m.quality.elongation if m is not None else None for m in measured]
    known_f = [f for f in fwhm if f is not None]
    known_e = [e for e in elong if e is not None]
    med_f = float(np.median(known_f)) if known_f else None
    med_e = float(np.median(known_e)) if known_e else None
    return [(f is None or med_f is None or f <= 1.25 * med_f) and (e is None or med_e is None or e <= med_e + 0.1)
            for f, e in zip(fwhm, elong, strict=True)]


@dataclass
class _StackedTile:
    image: np.ndarray
    coverage: np.ndarray | None  # the mission's coverage_count_hw (None when not computed / unusable)
    stack_coverage: np.ndarray  # the stacker's count of contributing frames, written as COVERAGE
    wcs: Any
    n_used: int
    notes: dict = field(default_factory=dict)  # what the stack decided, for the report
    stack_s: float = 0.0  # seconds the stack took


# What each step of a tile returns: its value and ``notes``, the fields of the tile's report it decided
# (``create_master_tile`` puts them into the report: the steps never write into it).

@dataclass
class _StackOutcome:
    """Alignment and stack: the stacked tile (None: the group gives no tile), the frames dropped, the notes."""

    tile: _StackedTile | None
    failed: list[tuple[Path, str]]
    notes: dict


@dataclass(frozen=True)
class _Usable:
    """The frames an alignment pass leaves to stack (None: the tile is skipped) and the ones it dropped."""

    used: list[int] | None
    failed: list[tuple[Path, str]]
    notes: dict


@dataclass(frozen=True)
class _TileCoverage:
    """The mission's coverage map of a tile (None: not used, ``notes`` say why)."""

    map: np.ndarray | None
    notes: dict


@dataclass(frozen=True)
class _FinishedTile:
    """A tile as it is written: the (nanised) image, its alpha, its coverage and WCS after crop and trim."""

    image: np.ndarray
    alpha: np.ndarray
    coverage: np.ndarray
    wcs: Any
    notes: dict


def _align_and_stack(loaded: _LoadedGroup, tile_id, cfg, need_coverage, debug, tiles_dir,
                     progress_callback) -> _StackOutcome:
    """Measure every frame's transform, choose the tile's canvas from them (:mod:`tile_canvas`), warp the frames onto
    it (disk caches sized like the canvas) and stack them."""
    n = len(loaded.paths)
    images = loaded.cache.reader(n)  # one RAM copy at a time; the raw cache pages are released after use
    frame_shape = loaded.cache.shape[1:]
    t0 = time.perf_counter()
    found = align_stack.find_group_transforms(
        images, 0, detection_sigma=cfg.align_detection_sigma, min_area=cfg.align_min_area,
        progress_callback=_progress_part(progress_callback, 0, 2 * n),
        max_control_points=cfg.align_max_control_points, debug=debug,
        star_lists=[m.xy for m in loaded.measured] if len(loaded.measured) == n else None,
        predicted=loaded.predicted_transforms())
    usable = _usable_frames(found, loaded.paths, tile_id, cfg)
    outcome = _StackOutcome(None, list(usable.failed), dict(usable.notes))
    if usable.used is None:
        return outcome
    gate = _quality_gate(found, loaded, frame_shape, cfg, tile_id)
    if gate is not None:
        outcome.failed.extend(gate.rejected)
        outcome.notes.update(_quality_notes(found, loaded, gate, cfg))
        found = gate.found
    plan = tile_canvas.plan_tile_canvas(
        [f.transform if f.ok else None for f in found], frame_shape, mode=cfg.master_tile_canvas,
        min_coverage_abs=_group_min_coverage_abs(cfg, sum(f.ok for f in found)),
        min_coverage_frac=cfg.altaz_min_coverage_frac,
        n_channels=frame_shape[2] if len(frame_shape) == 3 else 1, memory_budget_mb=cfg.stack_memory_budget_mb,
        tile_id=tile_id)
    outcome.notes["canvas"] = plan.as_dict()
    canvas = plan.canvas
    if cfg.master_tile_stack == "cfa_drizzle":
        drizzled = tile_drizzle.drizzle_group(loaded.paths, found, canvas, loaded.wcs, cfg, tile_id)
        if drizzled is not None:
            outcome.notes.update(frames_used=drizzled.n_used, stack=drizzled.stack,
                                 timings_s={"stack": drizzled.stack_s})
            outcome.tile = _StackedTile(drizzled.image, drizzled.coverage if need_coverage else None,
                                        drizzled.coverage, drizzled.wcs, drizzled.n_used)
            return outcome
    # the warped frames go into the raw frames' own file, each over raw frames already read (FrameCache's ``over``)
    with FrameCache(n, canvas.shape + tuple(frame_shape[2:]), parent=tiles_dir, name="aligned",
                    over=loaded.cache) as aligned_store, \
            FrameCache(n, canvas.shape, parent=tiles_dir, name="valid", dtype=bool) as mask_store:
        aligned = align_stack.warp_group(
            images, found, canvas, propagate_mask=True, progress_callback=_progress_part(progress_callback, n, 2 * n),
            output_store=aligned_store, mask_store=mask_store, debug=debug,
            order=aligned_store.fill_order())
        align_s = round(time.perf_counter() - t0, 3)
        usable = _usable_frames(aligned, loaded.paths, tile_id, cfg, already=found)
        outcome.failed.extend(usable.failed)
        outcome.notes.update(usable.notes, timings_s={"align": align_s})
        if usable.used is None:
            return outcome
        if gate is not None:
            removed = frame_gate.apply_partial_masks(aligned, gate.bad_cells, canvas, frame_shape[:2])
            for k, frac in removed.items():
                outcome.notes["frame_quality"][k]["masked_valid_fraction"] = round(frac, 4)
        coverage = _coverage_for_tile(aligned, usable.used, canvas.shape, tile_id, need_coverage)
        outcome.notes.update(coverage.notes)
        stacked = _stack_aligned(aligned, usable.used, _frame_factors(gate, usable.used, found), cfg,
                                 tile_canvas.canvas_wcs(loaded.wcs, canvas), coverage.map, progress_callback)
    outcome.notes.update(stacked.notes, timings_s={"align": align_s, "stack": stacked.stack_s})
    outcome.tile = stacked
    return outcome


def _stack_aligned(aligned, used, frame_factors, cfg, wcs, coverage, progress_callback) -> _StackedTile:
    """Stack the warped frames ``used`` (slot 0, the reference, is always among them) with the run's options and
    the gate's per-frame weight factors."""
    t0 = time.perf_counter()
    options = replace(stack_options(cfg), frame_weights=frame_factors)
    stack = stacker(cfg)(  # slot 0 is the reference (reference_index=0), which alignment never fails
        [aligned[k].image for k in used], options,
        valid_masks=[_released(aligned[k].valid) for k in used], progress_callback=progress_callback)
    notes = {"frames_used": len(used), "background": _background_summary(stack.normalization),
             "stack": {"normalize": cfg.stack_normalize_method, "rejection": cfg.stack_rejection_algorithm,
                       "combine": cfg.stack_final_combine, "weighting": cfg.stack_weighting_method,
                       "rejected_fraction": float(stack.rejected_fraction), "chunk_rows": int(stack.chunk_rows)}}
    return _StackedTile(np.asarray(stack.image, dtype=np.float32), coverage,
                        np.asarray(stack.coverage, dtype=np.float32), wcs, len(used), notes,
                        round(time.perf_counter() - t0, 3))


def _quality_gate(found, loaded: _LoadedGroup, frame_shape, cfg, tile_id) -> frame_gate.GateResult | None:
    """Judge the group's frames from their measures (:mod:`zemosaic.pipeline.frame_gate`): the rejected ones are
    in ``rejected`` and marked failed in the result's alignment list. None when the frames were not measured."""
    if len(loaded.measured) != len(loaded.paths):
        return None
    return frame_gate.gate_group(found, loaded.paths, loaded.measured, frame_shape, cfg, tile_id)


def _quality_notes(found, loaded: _LoadedGroup, gate: frame_gate.GateResult, cfg) -> dict:
    """The report's view of the gate: per frame its measures and bad cells, the decisions and warnings."""
    judged = {k for k, f in enumerate(found) if f.ok}
    records = [{"path": str(p), "judged": k in judged, **m.quality.as_dict(), "bad_cells": _cells(cells)}
               for k, (p, m, cells) in enumerate(zip(loaded.paths, loaded.measured, gate.bad_cells, strict=True))]
    return {"frame_quality": records,
            "quality_signature": frame_gate.decision_from_records([r for r in records if r["judged"]], cfg),
            "quality_warnings": list(gate.decision.warnings)}


def _cells(cells: np.ndarray | None) -> list[int]:
    """The flat indices of a frame's bad cells (for the report), [] when none."""
    return [] if cells is None else np.flatnonzero(cells).tolist()


def _stack_weighting(cfg: ZeMosaicConfig) -> str:
    """The stacker's weighting: ``psf_snr`` is its noise-variance weights times the gate's sharpness factors."""
    return "noise_variance" if cfg.stack_weighting_method == "psf_snr" else cfg.stack_weighting_method


def _frame_factors(gate: frame_gate.GateResult | None, used: Sequence[int], found) -> tuple[float, ...] | None:
    """The stack's per-frame weight factors (``psf_snr``), in the order of ``used``; None otherwise."""
    if gate is None or gate.factors is None:
        return None
    return tuple(gate.factors.get(k, 1.0) for k in used)


def _usable_frames(aligned, paths: Sequence[Path], tile_id, cfg, *, already=None) -> _Usable:
    """Slots of the frames that can be stacked (None when the tile is skipped), the failed frames (those not in
    ``already``, the earlier pass's results, so a frame is listed once) and the alignment outcome."""
    n = len(aligned)
    used = [k for k, a in enumerate(aligned) if a.ok]
    failed = [(paths[k], f"alignment failed: {a.reason}") for k, a in enumerate(aligned)
              if not a.ok and (already is None or already[k].ok)]
    methods = dict(Counter(a.method for a in aligned))
    notes = {"alignment_methods": methods, "frames": [_frame_record(paths[k], a) for k, a in enumerate(aligned)]}
    if already is None or len(used) < sum(a.ok for a in already):
        log.info("master tile %d: aligned %d/%d frames (%s)", tile_id, len(used), n, methods)
    if not used:
        log.warning("master tile %d skipped: no frame could be aligned", tile_id)
        return _Usable(None, failed, notes)
    too_few = _too_few_frames(len(used), cfg)
    if too_few is not None:
        log.warning("master tile %d skipped: %s", tile_id, too_few)
        return _Usable(None, failed + [(paths[k], too_few) for k in used], notes)
    return _Usable(used, failed, notes)


def _progress_part(callback: ProgressCallback | None, start: int, total: int) -> ProgressCallback | None:
    """``callback`` with each event's count moved to ``start + done`` of ``total`` (one phase, two passes)."""
    if callback is None:
        return None
    return lambda ev: callback(ProgressEvent(ev.phase, start + ev.done, total, ev.message))


def _released(mask):
    """A cached valid mask as the stacker reads it: a copy per read, the mask's pages released after each
    (:class:`ReleasedOnRead`), so the masks of hundreds of frames do not pile up in the resident set."""
    return None if mask is None else ReleasedOnRead(mask)


def _too_few_frames(n_usable: int, cfg: ZeMosaicConfig) -> str | None:
    """The reason a group of ``n_usable`` frames is not stacked (``min_frames_per_tile``), or None."""
    if n_usable >= cfg.min_frames_per_tile:
        return None
    return f"group skipped: {n_usable} usable frame(s) < min_frames_per_tile={cfg.min_frames_per_tile}"


def _frame_record(path: Path, aligned) -> dict:
    """One frame's alignment outcome for the run report."""
    record = {"path": str(path), "method": aligned.method, "reason": aligned.reason,
              "n_matched_stars": aligned.n_matched_stars, "fft_confidence": aligned.fft_confidence}
    t = aligned.transform
    if t is not None:
        record.update(rotation_deg=round(float(t.rotation_deg), 5), scale=round(float(t.scale), 6),
                      dx=round(float(t.dx), 4), dy=round(float(t.dy), 4))
    return record


def stack_options(cfg: ZeMosaicConfig) -> StackOptions:
    """The stacker's options of a run, made from its configuration in this one place (the ``stack_*`` and
    ``background_*`` keys), for :func:`zemosaic.stack.cpu.stack_frames` or its GPU twin; a tile adds its frames'
    weight factors (``psf_snr``).

    Examples
    --------
    >>> from zemosaic.config import resolve_config
    >>> from zemosaic.pipeline.master_tile import stack_options
    >>> options = stack_options(resolve_config(overrides=["stack_rejection_algorithm=kappa_sigma"]))
    >>> options.rejection_algorithm, options.normalize_method, options.winsor_limits
    ('kappa_sigma', 'background_match', (0.05, 0.05))
    """
    return StackOptions(
        normalize_method=cfg.stack_normalize_method, weighting_method=_stack_weighting(cfg),
        rejection_algorithm=cfg.stack_rejection_algorithm, final_combine_method=cfg.stack_final_combine,
        sigma_clip_low=cfg.stack_sigma_low, sigma_clip_high=cfg.stack_sigma_high,
        winsor_limits=tuple(cfg.stack_winsor_limits), memory_budget_mb=cfg.stack_memory_budget_mb,
        background_order=cfg.background_poly_order, flatten_reference=cfg.background_flatten_reference,
        flatten_order=cfg.background_flatten_order)


def stacker(cfg: ZeMosaicConfig):
    """The CPU stacker, or its GPU twin when ``use_gpu`` (which falls back to the CPU by itself)."""
    return stack_gpu.stack_frames_gpu if cfg.use_gpu else stack_cpu.stack_frames


def _coverage_for_tile(aligned, used, shape_hw, tile_id, need_coverage) -> _TileCoverage:
    """The mission's coverage_count_hw, accumulated frame by frame, or None (the reason goes to the
    log and to the report's ``coverage_decision``).

    Any failure here (a frame without valid mask, shapes that disagree, an unexpected error) must
    leave the tile identical to the coverage-less path, so this is a deliberate error boundary:
    the error is logged as the reason and the coverage is dropped.
    """
    if not need_coverage:  # cleanup off is recorded as such when the tile is finished
        return _TileCoverage(None, {"coverage_decision": CoverageDecision.not_used(
            "coverage_off", "altaz_use_coverage=false").reason})
    try:
        acc = align_stack.CoverageAccumulator(shape_hw)
        for k in used:
            if aligned[k].valid is None:
                raise ValueError(f"frame {k} has no valid mask ({aligned[k].method})")
            acc.add(aligned[k].valid)
            release_rows(aligned[k].valid, 0, shape_hw[0])  # a memmap mask: drop the pages just read
        coverage = acc.result()
        stats = acc.stats()
    except Exception as exc:  # noqa: BLE001 - deliberate boundary, see docstring
        reason = CoverageDecision.not_used("coverage_error", f"{type(exc).__name__}: {exc}").reason
        log.info("MT_COVERAGE_IGNORED tile_id=%d reason=%s", tile_id, reason)
        return _TileCoverage(None, {"coverage_decision": reason})
    notes: dict = {"coverage_stats": stats.as_dict()}
    if coverage is None:
        reason = CoverageDecision.not_used("empty", f"max {stats.max:g}").reason
        log.info("MT_COVERAGE_IGNORED tile_id=%d reason=%s", tile_id, reason)
        return _TileCoverage(None, {**notes, "coverage_decision": reason})
    log.info("MT_COVERAGE_STATS tile_id=%d coverage_shape=%s min=%.0f max=%.0f nonzero_frac=%.4f "
             "n_used_for_stack=%d", tile_id, stats.shape, stats.min, stats.max, stats.nonzero_frac, len(used))
    return _TileCoverage(coverage, notes)


def _background_summary(normalization) -> dict:
    """Background method of a tile and the spread of the fitted per-frame terms (for the run report)."""
    entries = [n if isinstance(n, dict) else n.as_dict() for n in normalization or []]
    if not entries:
        return {}
    terms = [e.get("match") or e for e in entries]  # background_match nests its fit under "match"
    summary: dict = {"method": entries[0].get("method", "")}
    for key in ("gain", "offset", "tilt_per_kpx"):
        values = [np.ravel(t[key]).astype(float) for t in terms if t and key in t]
        if values:
            flat = np.concatenate(values)
            summary[key] = {"min": round(float(flat.min()), 4), "max": round(float(flat.max()), 4)}
    return summary


# ================================================================================================
# Phase 3, after the stack: crop, lecropper, edge trim, write
# ================================================================================================
def _finish_tile(tile: _StackedTile, tile_id: int, cfg: ZeMosaicConfig, cleanup: bool, cleanup_reason: str,
                 coverage_decision: str) -> _FinishedTile:
    """Quality crop, the mission's lecropper alpha, edge trim: the tile as it will be written, and the report's
    account of each step (``coverage_decision``: what was decided of the coverage before, while stacking)."""
    image, coverage, stack_cov, wcs = tile.image, tile.coverage, tile.stack_coverage, tile.wcs
    notes: dict = {}
    if cfg.quality_crop_enabled:
        # judged on the pixels that hold data: the canvas's corners that no frame covers are not a bad band
        rect = lecropper.detect_quality_crop_rect(image, valid=stack_cov > 0)
        if rect is not None:
            image, (coverage, stack_cov), wcs = _crop_all(rect, image, (coverage, stack_cov), wcs)
            notes["quality_crop_rect"] = list(rect)
            log.info("master tile %d: quality crop rect=(y0=%d, x0=%d, y1=%d, x1=%d) -> %dx%d", tile_id, *rect,
                     image.shape[1], image.shape[0])
    checked = _coverage_ready_for_lecropper(coverage, image, tile_id)
    if coverage is not None:
        notes["coverage_decision"] = _coverage_check_reason(coverage, checked, image)
    abs_thr = _group_min_coverage_abs(cfg, tile.n_used)
    notes["thresholds"] = {"min_coverage_abs": abs_thr, "min_coverage_frac": cfg.altaz_min_coverage_frac,
                           "morph_open_px": cfg.altaz_morph_open_px, "n_used_for_stack": tile.n_used}
    if cleanup:
        masked = _mask_tile(image, cfg, coverage=checked, altaz_min_coverage_abs=abs_thr,
                            altaz_min_coverage_frac=cfg.altaz_min_coverage_frac,
                            altaz_morph_open_px=cfg.altaz_morph_open_px, tile_id=tile_id)
        out, alpha = masked.out, masked.alpha
        assert alpha is not None  # cleanup on: altaz_cleanup_enabled is not "false", so the masker gave an alpha
        if masked.decision is not None:  # the masker itself refused the coverage
            notes["coverage_decision"] = masked.decision.reason
        notes["coverage_used"] = masked.decision is not None and masked.decision.used
    else:  # no cleanup: every stacked pixel is kept at full weight
        out, alpha = image, (stack_cov > 0).astype(np.float32)
        log.info("MT_PIPELINE tile_id=%d lecropper skipped (cleanup off: %s)", tile_id, cleanup_reason)
        notes["coverage_decision"] = CoverageDecision.not_used("cleanup_off", cleanup_reason).reason
        notes["coverage_used"] = False
    log.info("MT_PIPELINE tile_id=%d coverage_used=%s reason=%s", tile_id, notes["coverage_used"],
             notes.get("coverage_decision", coverage_decision))
    notes["alpha_stats"] = _alpha_stats(alpha)
    finished = _FinishedTile(out, alpha, stack_cov, wcs, notes)
    if cfg.mt_edge_trim_enabled:
        finished = _edge_trim(finished, cfg, tile_id)
    stacked_area = int(np.count_nonzero(tile.stack_coverage > 0))  # before any crop or trim
    kept = float(np.count_nonzero(finished.alpha > cfg.altaz_alpha_soft_threshold)) / max(stacked_area, 1)
    finished.notes.update(field_fraction_kept=kept, shape=list(finished.image.shape))
    return finished


def _group_min_coverage_abs(cfg: ZeMosaicConfig, n_frames: int) -> float:
    """``altaz_min_coverage_abs`` for a tile of ``n_frames`` frames (clamped by ``altaz_small_group_rule``)."""
    return lecropper.group_min_coverage_abs(cfg.altaz_min_coverage_abs, n_frames, cfg.altaz_small_group_rule,
                                            cfg.altaz_min_coverage_frac)


def _crop_all(rect, image, maps, wcs):
    """Crop the tile, its per-pixel maps (coverage, alpha...) and its WCS with the SAME rect.

    The maps are never resized: a map that is None stays None.
    """
    y0, x0, y1, x1 = rect
    cropped = tuple(None if m is None else m[y0:y1, x0:x1] for m in maps)
    return image[y0:y1, x0:x1], cropped, crop_wcs(wcs, rect)


def crop_wcs(wcs, rect):
    """The WCS of ``image[y0:y1, x0:x1]``: same sky, CRPIX shifted by (x0, y0)."""
    y0, x0, y1, x1 = rect
    return wcs.slice((slice(y0, y1), slice(x0, x1)))


def _coverage_ready_for_lecropper(coverage, image, tile_id) -> np.ndarray | None:
    """Re-check the coverage right before lecropper (lecropper's own rule: same H x W as the tile,
    finite, max > 0); an unusable one is logged and dropped (None). None stays None."""
    if coverage is None:
        return None
    refused = lecropper.coverage_unusable(coverage, image.shape[:2])
    if refused is not None:
        log.info("MT_COVERAGE_IGNORED tile_id=%d reason=%s", tile_id, refused.reason)
        return None
    return coverage


def _coverage_check_reason(coverage: np.ndarray, checked: np.ndarray | None, image) -> str:
    """The report's coverage decision after :func:`_coverage_ready_for_lecropper` kept (``checked``) or dropped a
    coverage: "used", or why lecropper's rule refused it."""
    if checked is not None:
        return CoverageDecision(True, "used").reason
    refused = lecropper.coverage_unusable(coverage, image.shape[:2])
    assert refused is not None  # dropped by the same rule
    return refused.reason


@dataclass(frozen=True)
class _MaskedTile:
    """The lecropper hand-off's outcome: the (nanised) tile, its alpha and what became of the coverage
    (None when no coverage was handed in: the decision taken before stands)."""

    out: np.ndarray
    alpha: np.ndarray | None
    decision: CoverageDecision | None


def _apply_lecropper_pipeline(
    arr: np.ndarray,
    cfg: ZeMosaicConfig | Mapping[str, Any],
    *,
    coverage: np.ndarray | None = None,
    altaz_min_coverage_abs: float | None = None,
    altaz_min_coverage_frac: float | None = None,
    altaz_morph_open_px: int | None = None,
    tile_id: int | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Run the Alt-Az cleanup masker on a master tile; return ``(out, alpha_mask)``.

    Callable with two arguments exactly as before (every new parameter is keyword-only and
    optional). The coverage and its thresholds are forwarded to
    :func:`lecropper.mask_altaz_artifacts`; the caller clamps ``altaz_min_coverage_abs`` to the
    number of frames stacked. No double mask: ``out`` is the input data, NOT multiplied by the
    alpha (the alpha goes downstream as a weight); only pixels whose alpha is at or below
    ``altaz_nanize_threshold`` become NaN, on a float32 copy (integer input is never nanised).
    With ``altaz_cleanup_enabled='false'`` the input is returned unchanged with no alpha.

    A replacement masker that does not accept some of the keywords (an older one without
    ``coverage`` or ``hard_threshold``) is called without exactly those (see `_call_masker`).
    """
    masked = _mask_tile(arr, cfg, coverage=coverage, altaz_min_coverage_abs=altaz_min_coverage_abs,
                        altaz_min_coverage_frac=altaz_min_coverage_frac, altaz_morph_open_px=altaz_morph_open_px,
                        tile_id=tile_id)
    return masked.out, masked.alpha


def _mask_tile(arr, cfg, *, coverage, altaz_min_coverage_abs, altaz_min_coverage_frac, altaz_morph_open_px,
               tile_id) -> _MaskedTile:
    """`_apply_lecropper_pipeline`'s work, with the coverage decision the tuple contract cannot carry."""
    cfg = as_config(cfg)
    if cfg.altaz_cleanup_enabled == "false":
        log.info("MT_PIPELINE tile_id=%s skipped: altaz_cleanup_enabled=false", tile_id)
        decision = None if coverage is None else CoverageDecision.not_used("cleanup_off", "altaz_cleanup_enabled=false")
        return _MaskedTile(arr, None, decision)
    base_kwargs = dict(margin_percent=cfg.altaz_margin_percent, decay_ratio=cfg.altaz_decay_ratio, fill_value=0.0,
                       return_mask=True, hard_threshold=cfg.altaz_alpha_soft_threshold)
    cov_kwargs = {}
    if coverage is not None:
        cov_kwargs = dict(
            coverage=coverage,
            min_coverage_abs=cfg.altaz_min_coverage_abs if altaz_min_coverage_abs is None else altaz_min_coverage_abs,
            min_coverage_frac=(cfg.altaz_min_coverage_frac if altaz_min_coverage_frac is None
                               else altaz_min_coverage_frac),
            morph_open_px=cfg.altaz_morph_open_px if altaz_morph_open_px is None else altaz_morph_open_px)
        log.info("MT_PIPELINE tile_id=%s lecropper call: coverage_max=%.0f altaz_min_coverage_abs=%s "
                 "altaz_min_coverage_frac=%s altaz_morph_open_px=%s", tile_id, float(np.max(coverage)),
                 cov_kwargs["min_coverage_abs"], cov_kwargs["min_coverage_frac"], cov_kwargs["morph_open_px"])
    alpha, dropped = _call_masker(arr, {**base_kwargs, **cov_kwargs})
    decision = _decision_after_masker(cov_kwargs, dropped, tile_id)
    alpha = np.clip(np.asarray(alpha, dtype=np.float32), 0.0, 1.0)
    out = _nanize_low_alpha(arr, alpha, cfg, tile_id)
    stats = _alpha_stats(alpha)
    log.info("ALPHA_STATS: level=master_tile tile_id=%s source=%s min=%.3f max=%.3f mean=%.3f kept_frac=%.4f "
             "zero_frac=%.4f", tile_id, "coverage" if decision is not None and decision.used else "fallback",
             stats["min"], stats["max"], stats["mean"], stats["kept_frac"], stats["zero_frac"])
    return _MaskedTile(out, alpha, decision)


def _decision_after_masker(cov_kwargs: dict, dropped: Sequence[str], tile_id) -> CoverageDecision | None:
    if not cov_kwargs:
        return None
    lost = [k for k in cov_kwargs if k in dropped]
    if "coverage" not in lost:
        return CoverageDecision(True, "used")
    decision = CoverageDecision.not_used("masker_rejects_coverage_kwargs", "called without " + ", ".join(lost))
    log.info("MT_COVERAGE_IGNORED tile_id=%s reason=%s", tile_id, decision.reason)
    return decision


# Keywords the masker must take: without return_mask it gives no alpha.
_REQUIRED_MASKER_KWARGS = ("return_mask",)
# (masker, dropped keywords) pairs already logged at WARNING: once per masker, not once per tile.
_FALLBACKS_LOGGED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _call_masker(arr, kwargs: dict) -> tuple[np.ndarray, list[str]]:
    """Call ``lecropper.mask_altaz_artifacts`` with the ``kwargs`` it accepts; return ``(alpha, dropped)``.

    The one deliberate keyword fallback of the mission: an older masker that does not accept some
    keywords (``coverage`` and its thresholds, ``hard_threshold``...) is called without exactly
    those. Which ones it accepts is read from its signature; only when it has none (a builtin, a
    C extension) is a ``TypeError`` naming one of our keywords taken as the answer, and the call
    retried without it. A ``TypeError`` raised inside a masker that accepts the keywords is never
    caught. The keywords dropped are logged at WARNING once per masker.
    """
    masker = lecropper.mask_altaz_artifacts
    accepted = _accepted_keywords(masker, kwargs)
    if accepted is not None:
        dropped = [k for k in kwargs if k not in accepted]
        _check_dropped(masker, dropped)
        result = masker(arr, **{k: v for k, v in kwargs.items() if k in accepted})
    else:
        result, dropped = _call_dropping_on_typeerror(masker, arr, kwargs)
    _log_fallback_once(masker, dropped)
    return result[1], dropped


def _accepted_keywords(masker, kwargs: dict) -> set[str] | None:
    """The keywords of ``kwargs`` that ``masker`` takes by its signature; None when it has no signature."""
    try:
        params = inspect.signature(masker).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return set(kwargs)
    named = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return {k for k in kwargs if k in named}


def _call_dropping_on_typeerror(masker, arr, kwargs: dict):
    """Call a masker without signature; drop a keyword only when its TypeError names it as unexpected."""
    kwargs = dict(kwargs)
    dropped: list[str] = []
    while True:
        try:
            return masker(arr, **kwargs), dropped
        except TypeError as exc:
            name = next((k for k in kwargs if f"'{k}'" in str(exc) and "keyword" in str(exc)), None)
            if name is None:
                raise
            dropped.append(name)
            _check_dropped(masker, dropped)
            del kwargs[name]


def _check_dropped(masker, dropped: Sequence[str]) -> None:
    missing = [k for k in _REQUIRED_MASKER_KWARGS if k in dropped]
    if missing:
        raise TypeError(f"masker {_masker_name(masker)} does not accept {', '.join(missing)}: it cannot give the "
                        "alpha mask the master-tile pipeline needs")


def _log_fallback_once(masker, dropped: Sequence[str]) -> None:
    if not dropped:
        return
    try:
        seen = _FALLBACKS_LOGGED.setdefault(masker, set())
    except TypeError:  # not weak-referenceable (a builtin): log every time rather than keep it alive
        seen = set()
    if tuple(dropped) in seen:
        return
    seen.add(tuple(dropped))
    log.warning("MT_COVERAGE_IGNORED masker %s does not accept %s: called without %s (logged once per masker)",
                _masker_name(masker), ", ".join(dropped), "them" if len(dropped) > 1 else "it")


def _masker_name(masker) -> str:
    return f"{getattr(masker, '__module__', '?')}.{getattr(masker, '__qualname__', repr(masker))}"


def _nanize_low_alpha(arr, alpha, cfg, tile_id) -> np.ndarray:
    if not cfg.altaz_nanize_enabled:
        return arr
    if not np.issubdtype(np.asarray(arr).dtype, np.floating):
        log.info("MT_PIPELINE tile_id=%s nanisation skipped: input dtype %s is not float", tile_id, arr.dtype)
        return arr
    low = alpha <= cfg.altaz_nanize_threshold
    if not low.any():
        return arr
    out = np.array(arr, dtype=np.float32, copy=True)
    if out.ndim == 3 and lecropper.masker_layout(out.shape) == 0:  # C x H x W (the original's tiles): per plane
        out[:, low] = np.nan
    else:
        out[low] = np.nan
    return out


def _alpha_stats(alpha: np.ndarray) -> dict:
    return {"min": float(alpha.min()), "max": float(alpha.max()), "mean": float(alpha.mean()),
            "kept_frac": float(np.count_nonzero(alpha > 0)) / alpha.size,
            "zero_frac": float(np.count_nonzero(alpha <= 0)) / alpha.size}




def _edge_trim(tile: _FinishedTile, cfg, tile_id) -> _FinishedTile:
    """``MT_EDGE_TRIM``: the tile, its alpha, coverage and WCS cropped to the rectangle the alpha supports."""
    rect = lecropper.edge_trim_rect(tile.alpha, cfg.mt_edge_trim_valid_frac)
    if rect is None:
        log.info("MT_EDGE_TRIM tile_id=%d nothing to trim", tile_id)
        return tile
    y0, x0, y1, x1 = rect
    log.info("MT_EDGE_TRIM tile_id=%d rect=(y0=%d, x0=%d, y1=%d, x1=%d) removed top=%d bottom=%d left=%d right=%d",
             tile_id, y0, x0, y1, x1, y0, tile.alpha.shape[0] - y1, x0, tile.alpha.shape[1] - x1)
    out, (alpha, coverage), wcs = _crop_all(rect, tile.image, (tile.alpha, tile.coverage), tile.wcs)
    return _FinishedTile(out, alpha, coverage, wcs, {**tile.notes, "edge_trim_rect": list(rect)})


def _write_master_tile(tile: _FinishedTile, tile_id, cfg, tr: TileReport, tiles_dir) -> Path:
    """Write ``master_tile_NNN.fits`` (image, ALPHA, COVERAGE) with the report's decisions in its header."""
    path = tiles_dir / f"master_tile_{tile_id:03d}.fits"
    extensions = {"ALPHA": tile.alpha.astype(np.float32), "COVERAGE": tile.coverage.astype(np.float32)}
    header = {
        "MTILEID": (tile_id, "master tile id"),
        "NFRAMES": (tr.frames_used, "frames stacked"),
        "NFAILED": (len(tr.frames_failed), "frames excluded"),
        "STKNORM": (cfg.stack_normalize_method, "stack normalisation"),
        "STKREJ": (cfg.stack_rejection_algorithm, "stack rejection"),
        "COVUSED": (bool(tr.coverage_used), "alpha driven by intra-tile coverage"),
        "COVWHY": (tr.coverage_decision, ""),  # the decision (no comment: a long one continues on CONTINUE cards)
        "COVMINAB": (tr.thresholds.get("min_coverage_abs", 0.0), "min coverage (frames)"),
        "COVMINFR": (cfg.altaz_min_coverage_frac, "min coverage (fraction of max)"),
        "MORPHPX": (cfg.altaz_morph_open_px, "coverage opening radius px"),
        "QCROP": (",".join(map(str, tr.quality_crop_rect)) if tr.quality_crop_rect else "none",
                  "quality crop y0,x0,y1,x1"),
        "EDGETRIM": (",".join(map(str, tr.edge_trim_rect)) if tr.edge_trim_rect else "none",
                     "edge trim y0,x0,y1,x1 (after crop)"),
    }
    # the standard keywords (EXPTIME, NCOMBINE, DATE-OBS...) from the headers of the frames stacked
    used = [Path(f["path"]) for f in tr.frames if f.get("method") != "failed"]
    standard = headers.product_header(headers.facts_from_frames(headers.read_primary_headers(used)), bunit="ADU",
                                      bunit_comment="weighted stack of the frames, in their ADU",
                                      history=headers.tile_history(cfg) + frame_gate.quality_history(tr.frame_quality))
    standard.update(header)
    fits_io.write_fits_image(path, tile.image, wcs=tile.wcs, header_extra=standard, extensions=extensions)
    log.info("master tile %d written: %s (%s, %d frames)", tile_id, path.name, "x".join(map(str, tile.image.shape)),
             tr.frames_used)
    return path
