"""The run: folders, Phase 1 scan, Phase 2 clustering, Phase 3 over the groups, then the mosaic phases.

``run_mosaic(input_dir, output_dir, config)`` drives the phases of DESIGN.md §2:

1. scan    headers + WCS of every FITS file (bad files rejected with a reason, the run goes on); every file of the
           input folder is accounted for in the report (``input_files``: used, rejected or ignored, with the reason)
2. cluster frames -> master-tile groups (:mod:`zemosaic.pipeline.clustering`); frames of a pixel scale unlike their
           group's rejected; distant groups reported as separate targets; an absurd mosaic (memory estimate, covered
           fraction) refused before Phase 3 and again, on the tiles, before Phase 5 allocates it
3. tiles   :func:`zemosaic.pipeline.master_tile.create_master_tile` per group
4. grid, 4.5 harmony, 5 assembly, 6 outputs (:mod:`zemosaic.pipeline.mosaic_phases`)

In ``use_existing_master_tiles_mode`` the input folder holds master tiles and Phases 1-3 are
skipped: no intra-cluster coverage exists, so the coverage feature is a no-op there.
This module decides, logs and records; image maths lives in the capability modules.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import math
import os
import signal
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zemosaic._heap import freed_memory_kept
from zemosaic._numba_pool import blas_on_calling_threads
from zemosaic.config import ZeMosaicConfig, as_config
from zemosaic.io import fits as fits_io
from zemosaic.io.atomic import add_note, os_error_text
from zemosaic.masks import CoverageDecision
from zemosaic.mosaic.grid import grid_for_footprints
from zemosaic.mosaic.tiles import TileInput, discover_master_tiles, tile_input_from_written
from zemosaic.pipeline import (
    clustering,
    frame_records,
    frame_sanity,
    frame_skies,
    guard,
    lock,
    modes,
    mosaic_phases,
    tile_executor,
    tile_plan,
    tile_task,
)
from zemosaic.pipeline import resume as tile_resume
from zemosaic.pipeline.errors import NothingUsableError
from zemosaic.pipeline.frame_wcs import SolveSettings, assign_frame_wcs
from zemosaic.pipeline.master_tile import MasterTileResult, ScannedFrame, create_master_tile
from zemosaic.pipeline.mosaic_phases import MosaicRefusedError, check_mosaic_sanity
from zemosaic.pipeline.report import RunReport, TileReport, phase_timer, run_log_file
from zemosaic.pipeline.tile_task import TileEngineError
from zemosaic.progress import ProgressCallback, emit
from zemosaic.solve.solvers import SolverUnavailableError
from zemosaic.stack.frame_cache import cache_files_reused

__all__ = [
    "MosaicRefusedError",
    "NothingUsableError",
    "RunFolderError",
    "RunInterrupted",
    "RunResult",
    "TileEngineError",
    "run_mosaic",
    "prepare_output_folder",
    "scan_input_folder",
]

log = logging.getLogger(__name__)

FITS_SUFFIXES = (".fit", ".fits", ".fts")
COMPRESSED_FITS_SUFFIXES = tuple(s + c for s in FITS_SUFFIXES for c in (".gz", ".fz")) + (".fz",)
_OTHER_COMPRESSIONS = (".bz2", ".xz", ".zip", ".7z", ".rar", ".zst", ".lz4", ".z")


class RunFolderError(ValueError):
    """The input or output folder cannot be used as asked (the message says which and why)."""


@dataclass(frozen=True)
class RunResult:
    """Where a finished run put its outputs, with the figures of its summary."""

    output_dir: Path
    mosaic_path: Path
    preview_path: Path | None
    report_path: Path
    log_path: Path
    mode: str
    n_tiles: int
    n_frames_used: int
    n_inputs_rejected: int
    mosaic_shape: tuple[int, ...]

    def summary_text(self, elapsed_s: float | None = None) -> str:
        """A few human lines for the end of a CLI run."""
        h, w = self.mosaic_shape[:2]
        lines = [
            f"mosaic: {self.mosaic_path} ({w} x {h} px{' RGB' if len(self.mosaic_shape) == 3 else ''})",
            f"mode: {self.mode}; tiles: {self.n_tiles}; frames used: {self.n_frames_used}; "
            f"inputs rejected: {self.n_inputs_rejected} (reasons in {self.report_path.name})",
        ]
        if elapsed_s is not None:
            lines.append(f"time: {elapsed_s:.1f} s; log: {self.log_path}")
        return "\n".join(lines)


def run_mosaic(
    input_dir: str | Path,
    output_dir: str | Path,
    config: ZeMosaicConfig | Mapping[str, Any] | None = None,
    progress_callback: ProgressCallback | None = None,
    *,
    overwrite: bool = False,
    resume: bool = False,
) -> RunResult:
    """Build the mosaic of ``input_dir`` into ``output_dir``: ``mosaic.fits``, ``mosaic_preview.png``,
    ``master_tiles/``, ``run_report.json`` and ``zemosaic.log``.

    Parameters
    ----------
    input_dir : path
        A folder of raw FITS frames (or of master tiles with ``use_existing_master_tiles_mode``).
    output_dir : path
        Where the outputs go (created).
    config : ZeMosaicConfig or mapping, optional
        The run's settings (:func:`zemosaic.config.resolve_config`); a mapping is resolved over the defaults.
    progress_callback : callable, optional
        Called with each :class:`zemosaic.progress.ProgressEvent` (phase, done, total, message).
    overwrite, resume : bool
        What to do with a non-empty output folder (below).

    Returns
    -------
    RunResult
        The output paths and the run's figures (tiles, frames used, inputs rejected, mosaic shape).

    The input folder is only read. ``output_dir`` must not be the input folder or inside it. One run
    per output folder at a time (``OUT/.zemosaic.lock``). Temporary files a killed run left are removed
    first. A non-empty output folder needs ``overwrite`` (the outputs of an earlier run are removed first,
    and only those) or ``resume`` (finished master tiles whose inputs and settings are unchanged are
    reused). SIGTERM (in the main thread) and Ctrl-C stop the run with :class:`RunInterrupted`; the report
    says ``interrupted`` and in which phase, temporary files are removed.

    Raises
    ------
    RunFolderError
        Missing input folder, output inside the input, non-empty output without ``overwrite`` or
        ``resume``, an output folder in use by another run, or one that cannot be created.
    NothingUsableError
        No usable frame (or master tile) at all; the run report is still written.
    RunInterrupted
        SIGINT or SIGTERM; the run report is still written.
    TileEngineError
        The engine of Phase 3 cannot build the tiles (a worker process died, the dask scheduler is unreachable,
        a dask worker does not see the run's folders); the run report is still written.
    zemosaic.config.ConfigError
        ``scheduler`` is set to something that is not an address, or dask.distributed is not installed.

    Examples
    --------
    Two panels of three small synthetic frames, built into a mosaic of two master tiles:

    >>> import tempfile
    >>> from pathlib import Path
    >>> import zemosaic
    >>> from zemosaic.synthetic.generator import SynthSpec, generate_dataset
    >>> root = Path(tempfile.mkdtemp())
    >>> spec = SynthSpec(panels=(1, 2), frames_per_panel=3, width=240, height=360, pixel_scale_arcsec=4.8)
    >>> frames = generate_dataset(root / "frames", spec)
    >>> result = zemosaic.run_mosaic(root / "frames", root / "out", {"write_preview": False})
    >>> result.n_tiles, result.n_frames_used, result.n_inputs_rejected, result.mosaic_path.name
    (2, 6, 0, 'mosaic.fits')
    """
    cfg = as_config(config)
    tile_plan.check_engine_settings(cfg)
    input_dir, output_dir = Path(input_dir), Path(output_dir)
    if cfg.scheduler.strip() and not cfg.use_existing_master_tiles_mode:
        # dask workers may run in other working directories, or on other machines: they get absolute paths
        input_dir, output_dir = input_dir.absolute(), output_dir.absolute()
    _check_folders(input_dir, output_dir)
    with _output_lock(output_dir), _sigterm_raises(), blas_on_calling_threads(), freed_memory_kept():
        inputs = _guarded_inputs(input_dir, output_dir, cfg)
        lock.remove_temporary_leftovers(output_dir, inputs)
        prepare_output_folder(input_dir, output_dir, overwrite=overwrite, resume=resume, inputs=inputs)
        return _locked_run(input_dir, output_dir, cfg, progress_callback, resume, inputs)


def _guarded_inputs(input_dir: Path, output_dir: Path, cfg: ZeMosaicConfig) -> guard.RunInputs:
    """The run's inputs (:mod:`zemosaic.pipeline.guard`), before anything is removed; a run that would write its
    master tiles over them is refused (RunFolderError)."""
    inputs = guard.run_inputs(input_dir, recursive=cfg.input_recursive and not cfg.use_existing_master_tiles_mode)
    written = [] if cfg.use_existing_master_tiles_mode else [output_dir / "master_tiles"]
    try:
        guard.check_writes(inputs, written, [output_dir / name for name in lock.TOP_OUTPUTS])
    except guard.InputOverlapError as exc:
        raise RunFolderError(str(exc)) from None
    return inputs


def _locked_run(input_dir: Path, output_dir: Path, cfg: ZeMosaicConfig, progress_callback, resume: bool,
                inputs: guard.RunInputs | None = None) -> RunResult:
    mode, plan = modes.resolve_mode(cfg, input_dir)
    report = RunReport(str(input_dir), str(output_dir), mode, asdict(cfg))
    log_path = output_dir / "zemosaic.log"
    with run_log_file(log_path, debug=bool(cfg.debug_tile_ids)):
        try:
            if mode == "existing_master_tiles":
                built = modes.ModeTiles(_existing_master_tiles(input_dir, report))
            elif mode == "master_tiles" and plan is None:
                sky_frames: list = []
                built = modes.ModeTiles(_build_master_tiles(input_dir, output_dir, cfg, report, progress_callback,
                                                            resume, inputs, sky_frames), sky_frames=sky_frames)
            else:  # GRID, SDS, or master tiles from the frames of a stack plan (zemosaic.pipeline.modes)
                built = _frame_mode_tiles(mode, plan, input_dir, output_dir, cfg, report, progress_callback, resume,
                                          inputs)
            result = _assemble_and_write(built.tiles, output_dir, cfg, report, progress_callback,
                                         grid=built.grid, weight_map=built.weight_map, sky_frames=built.sky_frames)
            report.status, report.current_phase = "ok", None
        except NothingUsableError as exc:
            report.status, report.error = "nothing_usable", str(exc)
            raise
        except MosaicRefusedError as exc:
            report.status, report.error = "refused", str(exc)
            log.error("run stopped: %s", exc)
            raise
        except (KeyboardInterrupt, RunInterrupted) as exc:
            sig = exc.signal_name if isinstance(exc, RunInterrupted) else "SIGINT"
            report.status = "interrupted"
            report.interrupted = {"signal": sig, "phase": report.current_phase}
            log.warning("run interrupted by %s during phase %s", sig, report.current_phase)
            lock.remove_temporary_leftovers(output_dir, inputs)
            raise RunInterrupted(sig, report.current_phase) from None
        except OSError as exc:  # disk full, permissions, I/O: the caches go first (they free the space)
            named = _named_os_error(exc, report.current_phase, output_dir)
            report.status = "disk_error" if exc.errno == errno.ENOSPC else "os_error"
            report.error = os_error_text(named)
            log.error("run stopped: %s", report.error)
            lock.remove_temporary_leftovers(output_dir, inputs)
            if named is exc:
                raise
            raise named from exc
        except BaseException as exc:
            report.status, report.error = "failed", f"{type(exc).__name__}: {exc}"
            lock.remove_temporary_leftovers(output_dir, inputs)
            raise
        finally:
            _account_inputs(report)
            unwritten = _write_report(report, output_dir / "run_report.json")
            pending = sys.exc_info()[1]
            if unwritten is not None and pending is not None:  # the run's own error says it too
                add_note(pending, f"run report not written: {os_error_text(unwritten)}")
    if unwritten is not None:  # the mosaic is there, its report is not: the run did not end as it should
        raise OSError(unwritten.errno, f"{unwritten.strerror or unwritten} (writing the run report; the mosaic "
                      f"was written: {result.mosaic_path})", str(output_dir / "run_report.json")) from unwritten
    return result


def _named_os_error(exc: OSError, phase: str | None, output_dir: Path) -> OSError:
    """``exc``, or when it names no file (a write to an open handle, a memory map), the same error naming the
    output folder and the phase it happened in."""
    if exc.filename is not None:
        return exc
    return OSError(exc.errno, f"{exc.strerror or exc} (during phase {phase or 'setup'}, writing in the output "
                   "folder)", str(output_dir))


def _write_report(report: RunReport, path: Path) -> OSError | None:
    """Write the report; the OSError when it could not be (logged), else None."""
    try:
        report.write(path)
    except OSError as exc:  # the disk is full even after the caches went: say so, keep the run's own error
        log.error("run report not written: %s", os_error_text(exc))
        return exc
    return None


class RunInterrupted(BaseException):
    """A signal (SIGINT, SIGTERM) stopped the run; ``phase`` is the phase it was in.

    A BaseException, like KeyboardInterrupt, so that no per-frame error boundary swallows it."""

    def __init__(self, signal_name: str, phase: str | None = None):
        self.signal_name, self.phase = signal_name, phase
        super().__init__(f"interrupted by {signal_name}" + (f" during phase {phase}" if phase else ""))


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """While the block runs, SIGTERM raises :class:`RunInterrupted` in the main thread (as Ctrl-C raises
    KeyboardInterrupt), so the run unwinds: caches closed, temp files removed, report written."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum, frame):
        raise RunInterrupted(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _output_lock(output_dir: Path) -> Iterator[None]:
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunFolderError(f"cannot create output folder {output_dir}: {exc.strerror or exc}") from exc
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(lock.output_folder_lock(output_dir))
        except lock.OutputFolderLockedError as exc:
            raise RunFolderError(str(exc)) from exc
        yield


def _check_folders(input_dir: Path, output_dir: Path) -> None:
    if not input_dir.is_dir():
        what = "is a file, not a folder" if input_dir.exists() else "does not exist"
        raise RunFolderError(f"input folder {input_dir} {what}")
    inp, out = input_dir.resolve(), output_dir.resolve()
    if out == inp or inp in out.parents:
        raise RunFolderError(f"output folder {output_dir} is inside the input folder {input_dir}: refusing to write "
                             "there (the input is never modified)")
    if out.exists() and not out.is_dir():
        raise RunFolderError(f"output {output_dir} is a file, not a folder")


def prepare_output_folder(input_dir: Path, output_dir: Path, *, overwrite: bool, resume: bool = False,
                          inputs: guard.RunInputs | None = None) -> None:
    """Check the folders of a run and create the output folder (see :func:`run_mosaic`); with ``overwrite``,
    remove what an earlier run of ours left there (:func:`zemosaic.pipeline.lock.remove_previous_outputs`), except
    the run's ``inputs`` (by default every file of ``input_dir``: :func:`zemosaic.pipeline.guard.run_inputs`)."""
    _check_folders(input_dir, output_dir)
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunFolderError(f"cannot create output folder {output_dir}: {exc.strerror or exc}") from exc
    leftovers = [p for p in output_dir.iterdir() if p.name != lock.LOCK_NAME]
    if not leftovers or resume:
        return
    if not overwrite:
        raise RunFolderError(f"output folder {output_dir} is not empty (use --overwrite, or --resume to reuse "
                             "its finished master tiles)")
    lock.remove_previous_outputs(output_dir, inputs if inputs is not None else guard.run_inputs(input_dir))


def _existing_master_tiles(input_dir: Path, report: RunReport) -> list[TileInput]:
    log.info("existing_master_tiles_mode: input %s holds master tiles; Phases 1-3 skipped, "
             "no intra-cluster coverage (coverage feature is a no-op)", input_dir)
    log.info("run_info_existing_master_tiles_mode: enabled")
    tiles, rejected = discover_master_tiles(input_dir)
    for bad in rejected:
        report.reject(bad.path, bad.reason, "existing_master_tiles")
    if not tiles:
        raise NothingUsableError(f"no usable master tile in {input_dir}")
    decision = CoverageDecision.not_used("existing_tiles_mode")
    for t in tiles:  # what this run did with each tile: its alpha is read as it was written, no coverage here
        report.tiles.append(TileReport(tile_id=t.tile_id, path=str(t.path),  # no frame stacked by this run
                                       coverage_used=False, coverage_decision=decision.reason, shape=list(t.shape)))
        log.info("MT_PIPELINE tile_id=%d coverage_used=False reason=%s", t.tile_id, decision.reason)
    return tiles


def _frame_mode_tiles(mode: str, plan_path: Path | None, input_dir: Path, output_dir: Path, cfg: ZeMosaicConfig,
                      report: RunReport, progress_callback, resume: bool, inputs: guard.RunInputs | None = None):
    """Phases 1-1b (the folder's frames, or the stack plan's), then GRID / SDS / master tiles from them."""
    frames, plan = _frames_for_the_run(plan_path, input_dir, output_dir, cfg, report, progress_callback)
    sky_frames: list = []

    def tiles_from_frames(scanned: list[ScannedFrame]) -> list[TileInput]:
        return _master_tiles_from_frames(scanned, output_dir, cfg, report, progress_callback, resume, inputs,
                                         sky_frames)

    if mode == "master_tiles":
        return modes.ModeTiles(tiles_from_frames(frames), sky_frames=sky_frames)
    return modes.run_frame_mode(mode, frames, plan, output_dir, cfg, report, progress_callback, resume,
                                tiles_from_frames)


def _frames_for_the_run(plan_path: Path | None, input_dir: Path, output_dir: Path, cfg: ZeMosaicConfig,
                        report: RunReport, progress_callback) -> tuple[list[ScannedFrame], Any]:
    """Phases 1-1b: the folder's frames (or the stack plan's, and the plan) with their WCS, less the run's outliers
    and the frames the user excluded."""
    plan = None
    log.info("PHASE_UPDATE:1 Phase 1: scan of %s", plan_path or input_dir)
    with phase_timer(report, "1_scan"):
        if plan_path is not None:
            frames, plan = modes.scan_plan_frames(plan_path, input_dir, report, progress_callback,
                                                  lambda paths: _scan_paths(paths, report, progress_callback))
        else:
            frames = scan_input_folder(input_dir, report, progress_callback, recursive=cfg.input_recursive)
    if not frames:
        raise NothingUsableError(_nothing_found_message(input_dir, cfg.input_recursive))
    with phase_timer(report, "1b_wcs"):
        frames = _frames_with_wcs(frames, output_dir, cfg, report, progress_callback)
        frames = _without_run_outliers(frames, report)
    return frame_records.without_excluded(frames, cfg, report), plan


def _scan_paths(paths: Sequence[Path], report: RunReport, progress_callback) -> list[ScannedFrame]:
    """Phase 1 on the listed files (a stack plan's): headers read, unreadable files rejected with the reason."""
    report.input_files += [{"path": str(p), "status": "pending", "reason": None} for p in paths]
    report.frames_found = len(paths)
    frames = []
    for k, path in enumerate(paths):
        emit(progress_callback, "scan", k + 1, len(paths), path.name)
        try:
            frames.append(ScannedFrame(path, fits_io.read_frame_info(path, require_wcs=False)))
        except fits_io.FitsInputError as exc:
            report.reject(path, exc.reason_for(path), "scan")
    report.frames_scanned_ok = len(frames)
    return frames


def _build_master_tiles(input_dir: Path, output_dir: Path, cfg: ZeMosaicConfig, report: RunReport,
                        progress_callback, resume: bool = False, inputs: guard.RunInputs | None = None,
                        sky_frames: list | None = None) -> list[TileInput]:
    """Phases 1-3; returns the written master tiles as Phase 4 needs them (no header re-validation) and puts their
    frames in ``sky_frames`` (for Phase 5.5)."""
    frames, _ = _frames_for_the_run(None, input_dir, output_dir, cfg, report, progress_callback)
    return _master_tiles_from_frames(frames, output_dir, cfg, report, progress_callback, resume, inputs, sky_frames)


def _master_tiles_from_frames(frames: list[ScannedFrame], output_dir: Path, cfg: ZeMosaicConfig, report: RunReport,
                              progress_callback, resume: bool = False, inputs: guard.RunInputs | None = None,
                              sky_frames: list | None = None) -> list[TileInput]:
    """Phases 2-3 on frames with a WCS; the written master tiles as Phase 4 needs them. The frames stacked into
    them are added to ``sky_frames`` (:func:`zemosaic.pipeline.frame_skies.used_sky_frames`)."""
    tiles_dir = output_dir / "master_tiles"
    log.info("PHASE_UPDATE:2 Phase 2: clustering %d frames", len(frames))
    with phase_timer(report, "2_cluster"):
        groups = clustering.cluster_frames(
            [f.info for f in frames], threshold_fov_frac=cfg.cluster_threshold_fov_frac,
            split_by_mount=cfg.split_by_mount_mode, max_frames=cfg.max_frames_per_tile)
        groups = _without_scale_outliers(groups, frames, cfg, report)
        _report_targets(groups, frames, cfg, report)
        _check_mosaic_estimate(groups, frames, cfg, report)
    report.groups = [{"tile_id": k, "n_frames": len(g), "reference": str(frames[g.reference].path),
                      "center_radec": list(g.center_radec), "mount_mode": g.mount_mode}
                     for k, g in enumerate(groups)]
    log.info("PHASE_UPDATE:3 Phase 3: Master Tiles (%d groups)", len(groups))
    results: dict[int, MasterTileResult] = {}
    with phase_timer(report, "3_master_tiles"):
        try:
            with cache_files_reused(tiles_dir):  # a tile's frame caches write over the pages of the previous tile's
                reused_or_built = _master_tiles_phase(groups, frames, tiles_dir, cfg, progress_callback, resume,
                                                      results)
        finally:  # in tile-id order whatever order the tiles finished in (an interrupted run: the tiles finished)
            for tile_id in sorted(results):
                report.tiles.append(results[tile_id].report)
                for path, reason in results[tile_id].failed_inputs:
                    report.reject(path, reason, "master_tile")
        tiles: list[TileInput] = []
        for tile_id in range(len(groups)):
            result = results[tile_id]
            if result.path is not None:
                tiles.append(tile_input_from_written(result.path, len(tiles), shape=result.report.shape,
                                                     n_frames=result.report.frames_used))
        emit(progress_callback, "tiles", len(groups), len(groups), "master tiles done")
        if sky_frames is not None:
            failed = {str(p) for r in results.values() for p, _ in r.failed_inputs}
            written = [results[t].report for t in range(len(groups)) if results[t].path is not None]
            sky_frames.extend(frame_skies.used_sky_frames(written, {str(f.path): f for f in frames}, failed))
        frame_records.record_quality(report, output_dir, frames)
        if resume:
            report.resume = reused_or_built
            _drop_stale_tiles(tiles_dir, {Path(t.path).name for t in report.tiles if t.path}, inputs)
            log.info("resume: %d master tile(s) reused, %d rebuilt", len(reused_or_built["reused"]),
                     len(reused_or_built["rebuilt"]))
    if not tiles:
        raise NothingUsableError("no master tile could be built (see the rejected inputs in run_report.json)")
    return tiles


def _master_tiles_phase(groups: list[clustering.FrameGroup], frames: list[ScannedFrame], tiles_dir: Path,
                        cfg: ZeMosaicConfig, progress_callback, resume: bool, results: dict[int, MasterTileResult]
                        ) -> dict[str, list[int]]:
    """Phase 3: every group's tile, reused (``resume``) or built by the engine ``max_workers`` and ``scheduler``
    choose (:mod:`zemosaic.pipeline.tile_executor`), put in ``results`` by tile id as it finishes; each built
    tile's resume manifest is written then, whatever the order. Returns the tile ids reused and rebuilt."""
    reused_or_built: dict[str, list[int]] = {"reused": [], "rebuilt": []}
    tasks: list[tile_task.TileTask] = []
    for tile_id, group in enumerate(groups):
        members = [frames[i] for i in group.members]
        ref = group.members.index(group.reference)
        reused = _reused_tile(tiles_dir, tile_id, members, ref, cfg) if resume else None
        if reused is not None:
            results[tile_id] = reused
            reused_or_built["reused"].append(tile_id)
            continue
        tile_resume.manifest_path(tiles_dir, tile_id).unlink(missing_ok=True)
        tasks.append(tile_task.make_task(tile_id, members, ref, cfg, tiles_dir,
                                             send_progress=progress_callback is not None))
        reused_or_built["rebuilt"].append(tile_id)
    if not tasks:
        return reused_or_built
    tiles_dir.mkdir(parents=True, exist_ok=True)  # before any worker looks for it (a dask worker checks it)

    def on_start(task: tile_task.TileTask) -> None:
        emit(progress_callback, "tiles", len(results), len(groups), f"master tile {task.tile_id}")

    def on_done(task: tile_task.TileTask, result: MasterTileResult) -> None:
        if result.path is not None:
            tile_resume.write_tile_manifest(tiles_dir, task.tile_id, result.path, task.members, task.reference,
                                            cfg, result.report, result.failed_inputs)
        results[task.tile_id] = result
        emit(progress_callback, "tiles", len(results), len(groups), f"master tile {task.tile_id} done")

    def serial_build(task: tile_task.TileTask, callback) -> MasterTileResult:
        return _master_tile_or_failure(list(task.members), task.tile_id, cfg, tiles_dir, task.reference, callback)

    with tile_executor.open_tile_engine(cfg, tasks, serial_build, progress_callback) as engine:
        engine.run(tasks, on_start, on_done)
    return reused_or_built


def _reused_tile(tiles_dir: Path, tile_id: int, members: list[ScannedFrame], reference: int,
                 cfg: ZeMosaicConfig) -> MasterTileResult | None:
    found = tile_resume.reusable_tile(tiles_dir, tile_id, members, reference, cfg)
    if found is None:
        return None
    path, tile_report, failed = found
    return MasterTileResult(tile_id, path, tile_report, failed)


def _drop_stale_tiles(tiles_dir: Path, kept: set[str], inputs: guard.RunInputs | None = None) -> None:
    """After a resumed Phase 3: remove the tiles (and manifests) of an earlier run that this run did not produce
    (never one of the run's ``inputs``)."""
    if not tiles_dir.is_dir():
        return
    for path in sorted(tiles_dir.glob("master_tile_*.*")):
        if path.suffix in (".fits", ".json") and path.with_suffix(".fits").name not in kept:
            if guard.remove_file(path, inputs, "resume"):
                log.info("resume: %s removed (not a tile of this run)", path.name)


def _master_tile_or_failure(members: list[ScannedFrame], tile_id: int, cfg: ZeMosaicConfig, tiles_dir: Path,
                            reference: int, progress_callback) -> MasterTileResult:
    """:func:`create_master_tile` (looked up here, so a test or script may replace it for a serial run) behind the
    per-tile failure boundary (:func:`zemosaic.pipeline.tile_task.tile_or_failure`)."""
    return tile_task.tile_or_failure(create_master_tile, members, tile_id, cfg, tiles_dir, reference,
                                         progress_callback)


def _frames_with_wcs(frames: list[ScannedFrame], output_dir: Path, cfg: ZeMosaicConfig, report: RunReport,
                     progress_callback) -> list[ScannedFrame]:
    """Phase 1b: every frame gets a WCS (header, plate solve, or carried from a solved frame of its field)."""
    settings = solve_settings(cfg, output_dir)
    try:
        outcome = assign_frame_wcs(frames, settings, progress_callback)
    except SolverUnavailableError as exc:
        raise NothingUsableError(f"no frame has a celestial WCS and {exc}") from exc
    for path, reason in outcome.rejected:
        report.reject(path, reason, "wcs")
    report.astrometry = {**outcome.summary(), "frames": [asdict(r) for r in outcome.records]}
    if not outcome.frames:
        hint = " (plate_solver=none: set plate_solver=auto to solve them locally)" if cfg.plate_solver == "none" else ""
        raise NothingUsableError(f"no frame has a celestial WCS{hint} (see the rejected inputs in run_report.json)")
    return outcome.frames


def solve_settings(cfg: ZeMosaicConfig, output_dir: Path):
    """The Phase 1b settings of a run: the config keys, with the cache and sidecar folders in ``output_dir``."""
    return SolveSettings(
        wcs_source=cfg.wcs_source, plate_solver=cfg.plate_solver, index_dirs=tuple(cfg.solver_index_dirs),
        astap_path=cfg.astap_path or None, astap_database_dir=cfg.astap_database_dir or None,
        timeout_s=cfg.solve_timeout_s,
        search_radius_deg=cfg.solve_search_radius_deg,
        default_scale_arcsec=cfg.hint_pixel_scale_arcsec or None,
        cache_dir=Path(cfg.wcs_cache_dir).expanduser() if cfg.wcs_cache_dir else output_dir / "wcs_cache",
        sidecar_dir=output_dir / "wcs" if cfg.write_wcs_sidecars else None, debayer_method=cfg.debayer_method,
        solve_strategy=cfg.solve_strategy, blind_budget_s=cfg.solve_blind_budget_s)


def scan_input_folder(input_dir: Path, report: RunReport, progress_callback=None, *, recursive: bool = False
                      ) -> list[ScannedFrame]:
    """Phase 1: read the headers of the FITS files in ``input_dir`` (no pixels); a frame without a WCS is kept
    (Phase 1b solves it) with the reason in ``info.wcs_problem``.

    FITS files are ``.fit``/``.fits``/``.fts``, gzipped (``.fit.gz``...) or tile-compressed (``.fits.fz``). Every
    other entry is listed in ``report.input_files`` as ignored, with the reason: a subfolder (scanned only with
    ``recursive``), another compression, not a FITS name, a dangling symbolic link, or a duplicate (same bytes as a
    file listed before it, which is the one used). The FITS files scanned are listed as ``pending`` until the end
    of the run says whether they were used (:func:`_account_inputs`)."""
    candidates, ignored = _list_input_files(Path(input_dir), recursive)
    candidates, duplicates = _drop_duplicates(candidates)
    ignored += duplicates
    ignored.sort(key=lambda item: str(item[0]))
    for path, reason in ignored:
        log.info("input ignored: %s: %s", path, reason)
        report.input_files.append({"path": str(path), "status": "ignored", "reason": reason})
    report.input_files += [{"path": str(p), "status": "pending", "reason": None} for p in candidates]
    report.ignored_files = [str(p) for p, _ in ignored]
    report.frames_found = len(candidates)
    frames = []
    entries = {entry["path"]: entry for entry in report.input_files}
    for k, path in enumerate(candidates):
        emit(progress_callback, "scan", k + 1, len(candidates), path.name)
        try:
            frames.append(ScannedFrame(path, fits_io.read_frame_info(path, require_wcs=False)))
        except fits_io.FitsInputError as exc:
            report.reject(path, exc.reason_for(path), "scan")
            continue
        for problem in frames[-1].info.keyword_problems:  # once per file, here where each file is read
            log.warning("%s: %s", path, problem)
        if frames[-1].info.keyword_problems:
            entries[str(path)]["header_problems"] = list(frames[-1].info.keyword_problems)
    report.frames_scanned_ok = len(frames)
    log.info("scan: %d FITS files, %d usable, %d rejected, %d other entries ignored (%d duplicates)",
             len(candidates), len(frames), len(candidates) - len(frames), len(ignored), len(duplicates))
    return frames


def _fits_kind(name: str) -> str:
    """``"fits"`` for a FITS name we read (plain, gzip, tile-compressed), else why the name is not read."""
    low = name.lower()
    if low.endswith(FITS_SUFFIXES) or low.endswith(COMPRESSED_FITS_SUFFIXES):
        return "fits"
    for comp in _OTHER_COMPRESSIONS:
        if low.endswith(comp) and low[:-len(comp)].endswith(FITS_SUFFIXES):
            return (f"compressed FITS in a format not read ({comp}): decompress it first (.gz and .fz are read "
                    "as they are)")
    suffix = Path(name).suffix
    return f"not a FITS file name ({suffix or 'no suffix'})"


def _list_input_files(folder: Path, recursive: bool, _seen: set[Path] | None = None
                      ) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The FITS files of ``folder`` (sorted, subfolders first-level order kept with ``recursive``) and the
    other entries with the reason they are not read."""
    seen = _seen if _seen is not None else set()
    seen.add(folder.resolve())
    candidates: list[Path] = []
    ignored: list[tuple[Path, str]] = []
    for path in sorted(folder.iterdir()):
        if path.is_symlink() and not path.exists():
            ignored.append((path, f"dangling symbolic link (its target {os.readlink(path)} does not exist)"))
        elif path.is_dir():
            if not recursive:
                ignored.append((path, "subfolder, not scanned (zemosaic run --recursive scans subfolders)"))
            elif path.resolve() in seen:
                ignored.append((path, "subfolder already scanned (a link to a folder scanned before)"))
            else:
                sub_candidates, sub_ignored = _list_input_files(path, recursive, seen)
                candidates += sub_candidates
                ignored += sub_ignored
        elif not path.is_file():
            ignored.append((path, "not a regular file"))
        else:
            kind = _fits_kind(path.name)
            if kind == "fits":
                candidates.append(path)
            else:
                ignored.append((path, kind))
    return candidates, ignored


def _drop_duplicates(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Files with the same bytes as a file listed before them, as ignored entries: each frame is used once.
    Only files of equal size and equal first 64 KiB are read whole."""
    def digest(path: Path, limit: int | None) -> bytes:
        sha = hashlib.sha256()
        with open(path, "rb") as handle:
            if limit is not None:
                sha.update(handle.read(limit))
            else:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    sha.update(block)
        return sha.digest()

    def key(path: Path, limit: int | None):
        try:
            return path.stat().st_size, digest(path, limit)
        except OSError:  # unreadable: the scan rejects it with the reason
            return None

    by_head: dict[tuple, list[Path]] = {}
    for path in paths:
        head = key(path, 64 << 10)
        if head is not None:
            by_head.setdefault(head, []).append(path)
    duplicate_of: dict[Path, Path] = {}
    for group in (g for g in by_head.values() if len(g) > 1):
        first_by_full: dict[tuple, Path] = {}
        for path in group:
            full = key(path, None)
            if full is None:
                continue
            if full in first_by_full:
                duplicate_of[path] = first_by_full[full]
            else:
                first_by_full[full] = path
    kept = [p for p in paths if p not in duplicate_of]
    ignored = [(p, f"duplicate of {duplicate_of[p]} (same bytes; that file is used, once)") for p in paths
               if p in duplicate_of]
    return kept, ignored


def _nothing_found_message(input_dir: Path, recursive: bool) -> str:
    """Why Phase 1 found no frame; says so when the frames are in subfolders that were not scanned."""
    if not recursive:
        counts = {}
        for sub in sorted(p for p in input_dir.iterdir() if p.is_dir()):
            n = sum(1 for root, _, names in os.walk(sub) for name in names if _fits_kind(name) == "fits")
            if n:
                counts[sub.name] = n
        if counts:
            where = ", ".join(f"{name}/: {n}" for name, n in counts.items())
            return (f"no FITS frame directly in {input_dir}, but its subfolders hold {sum(counts.values())} "
                    f"({where}): run with --recursive (or --set input_recursive=true) to use them")
    return f"no readable FITS frame in {input_dir}"


def _account_inputs(report: RunReport) -> None:
    """Settle the status of every FITS file the scan listed: ``rejected`` (first reason), ``used``, or
    ``not_used`` when the run stopped before the mosaic was written."""
    rejected: dict[str, str] = {}
    for r in report.rejected_inputs:
        rejected.setdefault(r.path, f"{r.phase}: {r.reason}")
    for entry in report.input_files:
        if entry["status"] != "pending" and entry["status"] != "not_used":
            continue
        if entry["path"] in rejected:
            entry["status"], entry["reason"] = "rejected", rejected[entry["path"]]
        elif report.status == "ok":
            entry["status"], entry["reason"] = "used", None
        else:
            entry["status"], entry["reason"] = "not_used", f"the run stopped ({report.status}) before the mosaic"


def _without_scale_outliers(groups: list[clustering.FrameGroup], frames: list[ScannedFrame], cfg: ZeMosaicConfig,
                            report: RunReport) -> list[clustering.FrameGroup]:
    kept, rejected = clustering.reject_scale_outliers(groups, [f.info for f in frames], cfg.wcs_scale_tolerance)
    for index, reason in rejected:
        report.reject(frames[index].path, reason, "wcs")
    if not kept:
        raise NothingUsableError("no frame left after the pixel-scale check (see the rejected inputs in "
                                 "run_report.json)")
    return kept


def _without_run_outliers(frames: list[ScannedFrame], report: RunReport) -> list[ScannedFrame]:
    """The frames unlike the rest of the run (size, field of view: :mod:`zemosaic.pipeline.frame_sanity`) are
    rejected with the reason before any whole-run decision is taken on them."""
    outliers = dict(frame_sanity.run_outliers([f.info for f in frames]))
    for k, reason in sorted(outliers.items()):
        log.warning("frame rejected: %s: %s", frames[k].path, reason)
        report.reject(frames[k].path, reason, "sanity")
    return [f for k, f in enumerate(frames) if k not in outliers]


def _report_targets(groups: list[clustering.FrameGroup], frames: list[ScannedFrame], cfg: ZeMosaicConfig,
                    report: RunReport) -> None:
    """Log and record the targets when the groups form more than one (a frame of another object in the folder)."""
    targets = clustering.separate_targets(groups, [f.info for f in frames], cfg.separate_target_fov)
    report.targets = [{"target": k, "groups": list(t.groups), "n_frames": t.n_frames,
                       "center_radec": list(t.center_radec), "nearest_other_deg": t.nearest_other_deg,
                       "frames": [str(frames[i].path) for g in t.groups for i in groups[g].members]
                       if t.n_frames <= 20 else None}
                      for k, t in enumerate(targets)]
    if len(targets) < 2:
        return
    log.warning("input holds %d separate targets (groups farther than %.1f fields of view from all others)",
                len(targets), cfg.separate_target_fov)
    for k, t in enumerate(targets):
        first = frames[groups[t.groups[0]].members[0]].path
        log.warning("target %d: %d frame(s) in %d group(s) at RA %.4f Dec %.4f, %.2f deg from the nearest other "
                    "target (e.g. %s)", k, t.n_frames, len(t.groups), t.center_radec[0], t.center_radec[1],
                    t.nearest_other_deg or 0.0, first)


def _check_mosaic_estimate(groups: list[clustering.FrameGroup], frames: list[ScannedFrame], cfg: ZeMosaicConfig,
                           report: RunReport) -> None:
    """Before Phase 3: the mosaic the groups would make (their reference frames' footprints), refused early when
    it is absurd (:func:`zemosaic.pipeline.mosaic_phases.check_mosaic_sanity`)."""
    refs = [frames[g.reference].info for g in groups]
    footprints = [(tuple(info.shape), info.celestial_wcs) for info in refs]
    n_channels = max(info.n_channels for info in refs)
    try:
        check_mosaic_sanity(grid_for_footprints(footprints), footprints, n_channels, cfg, report, stage="frames")
    except MosaicRefusedError as exc:  # say which frames make it so (the groups' references at its edges)
        names = [f"{frames[g.reference].path.name}{f' (+{len(g) - 1} in its group)' if len(g) > 1 else ''}"
                 for g in groups]
        where = frame_sanity.extent_frames([g.center_radec for g in groups],
                                           [frame_sanity.fov_deg(i) for i in refs], names)
        raise MosaicRefusedError(f"{exc}; frames that set its extent: {where}") from None


def _assemble_and_write(tiles: Sequence[TileInput], output_dir: Path, cfg: ZeMosaicConfig, report: RunReport,
                        progress_callback, *, grid=None, weight_map=None, sky_frames=()) -> RunResult:
    try:
        outputs = mosaic_phases.assemble_mosaic_phases(tiles, output_dir, cfg, report, progress_callback, grid=grid,
                                                       weight_map=weight_map, sky_frames=sky_frames)
    except MosaicRefusedError as exc:  # refused on the tiles (Phase 4): say which tiles make it so
        if (report.mosaic_check or {}).get("stage") != "tiles":
            raise
        raise MosaicRefusedError(f"{exc}; tiles that set its extent: {_extent_tiles(tiles)}") from None
    n_used = sum(t.frames_used for t in report.tiles) if report.tiles else 0
    if report.mode in ("grid", "sds"):  # a frame is stacked into every grid tile it touches: count it once
        n_used = len({f["path"] for t in report.tiles for f in t.frames})
    return RunResult(output_dir, outputs.mosaic_path, outputs.preview_path, output_dir / "run_report.json",
                     output_dir / "zemosaic.log", report.mode, len(tiles), n_used,
                     len(report.rejected_inputs), tuple(outputs.shape))


def _extent_tiles(tiles: Sequence[TileInput]) -> str:
    """The master tiles farthest out (:func:`zemosaic.pipeline.frame_sanity.extent_frames`), for a refusal."""
    centres, fovs = [], []
    for tile in tiles:
        h, w = tile.shape
        ra, dec = tile.wcs.celestial.wcs_pix2world([[(w - 1) / 2.0, (h - 1) / 2.0]], 0)[0]
        centres.append((float(ra), float(dec)))
        scale = math.sqrt(abs(np.linalg.det(tile.wcs.celestial.pixel_scale_matrix)))
        fovs.append(math.hypot(h, w) * scale)
    return frame_sanity.extent_frames(centres, fovs, [Path(t.path).name for t in tiles])
