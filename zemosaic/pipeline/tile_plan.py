"""Phase 3: how many master tiles to build at once, where, and with how many numba threads each
(:func:`plan_workers`, one log line with the reasons), and the engine settings checked before a run starts."""
from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from zemosaic.config import ConfigError, ZeMosaicConfig
from zemosaic.pipeline.tile_task import PROCESS_BASE_MB, TileEngineError, TileTask

__all__ = [
    "WorkerPlan",
    "plan_workers",
    "check_engine_settings",
    "usable_cores",
    "MAIN_GUARD_HINT",
]

_AUTO_RAM_FRACTION = 0.75  # memory_budget_mb=0: this fraction of the RAM available when Phase 3 starts
_AUTO_MIN_MPX = 40.0  # max_workers=0: below this many megapixels of frames in all, the tiles are built here, serially


@dataclass(frozen=True)
class WorkerPlan:
    """Which engine builds the tiles, with how many workers and numba threads each, and why (one log line)."""

    engine: str  # "serial", "threads", "processes" or "dask"
    workers: int
    numba_threads: int | None
    reason: str
    scheduler: str = ""


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def available_ram_mb() -> float | None:
    """RAM available now (MB): ``MemAvailable`` of /proc/meminfo, else the free pages; None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (AttributeError, ValueError, OSError):
        return None



def plan_workers(cfg: ZeMosaicConfig, tasks: Sequence[TileTask], *, cores: int | None = None,
                 ram_available_mb: float | None = None) -> WorkerPlan:
    """How many tiles to build at once: ``max_workers`` (0: the usable cores, or one when all the groups hold fewer
    than ``_AUTO_MIN_MPX`` megapixels of frames: a worker's start would cost more than it saves), never more than the
    tiles to build, nor more than ``memory_budget_mb`` (0: 3/4 of the RAM available) divided by the largest tile's
    estimated peak (:func:`estimate_tile_peak_mb`); each worker gets ``cores // workers`` numba threads. One worker
    builds in the run's process: two tiles at once in threads where that room is there for two
    (:func:`_in_process_plan`)."""
    cores = cores or usable_cores()
    n = len(tasks)
    scheduler = cfg.scheduler.strip()
    replaced = _replaced_masker()
    if replaced and (scheduler or cfg.max_workers != 1):
        return WorkerPlan("serial", 1, None, f"lecropper.mask_altaz_artifacts is replaced in this process (by "
                          f"{replaced}): worker processes would not call it, so {n} tile(s) are built here, one "
                          "after another (max_workers and scheduler set aside)")
    if scheduler and scheduler != "local":
        return WorkerPlan("dask", 0, None, f"scheduler={scheduler}: the cluster's workers build the {n} tile(s)",
                          scheduler)
    auto = cfg.max_workers == 0
    wanted = cores if auto else cfg.max_workers
    why = [f"max_workers={cfg.max_workers}" + (f" (auto: {cores} usable cores)" if auto else "")]
    mpx = sum(_frame_pixels(m) for t in tasks for m in t.members) / 1e6
    if auto and mpx < _AUTO_MIN_MPX:
        wanted = 1
        why.append(f"the groups hold {mpx:.1f} Mpx of frames (< {_AUTO_MIN_MPX:g}): less work than starting worker "
                   "processes costs (about 2 s each)")
    per_tile = max((t.peak_mb() for t in tasks), default=PROCESS_BASE_MB)
    budget: float | None
    if cfg.memory_budget_mb > 0:
        budget, budget_text = float(cfg.memory_budget_mb), f"memory_budget_mb={cfg.memory_budget_mb:g}"
    else:
        ram = available_ram_mb() if ram_available_mb is None else ram_available_mb
        budget = None if ram is None else _AUTO_RAM_FRACTION * ram
        budget_text = ("memory_budget_mb=0 (auto, RAM available unknown: no memory limit)" if budget is None else
                       f"memory_budget_mb=0 (auto: {budget:.0f} MB = 3/4 of the {ram:.0f} MB available)")
    by_memory = max(1, int(budget // per_tile)) if budget is not None else n
    workers = max(1, min(wanted, n, by_memory))
    why.append(f"{n} tile(s) to build")
    why.append(f"{budget_text} / ~{per_tile:.0f} MB per tile (largest group) = {by_memory} at once")
    if auto and cfg.use_gpu and workers > 1:
        workers = 1
        why.append("use_gpu=true: the GPU is shared, one tile at a time (set max_workers to override)")
    if scheduler == "local":
        threads = max(1, cores // workers)
        return WorkerPlan("dask", workers, threads, "; ".join(why) + f" -> LocalCluster of {workers} worker "
                          f"process(es), {threads} numba thread(s) each", "local")
    if workers == 1:
        return _in_process_plan(cfg, min(cores, n, by_memory), replaced, why)
    threads = max(1, cores // workers)
    return WorkerPlan("processes", workers, threads, "; ".join(why) + f" -> {workers} worker processes, {threads} "
                      "numba thread(s) each")


def _in_process_plan(cfg: ZeMosaicConfig, room: int, replaced: str | None, why: list[str]) -> WorkerPlan:
    """The tiles built in the run's process: two at once in threads where the cores, the tiles and the memory
    allow ``room`` for two, one after another otherwise (a GPU run, a replaced masker) or where they do not."""
    if room < 2 or cfg.use_gpu or replaced:
        if cfg.use_gpu and room >= 2:
            why.append("use_gpu=true: the GPU is shared, one tile at a time")
        elif replaced:
            why.append(f"lecropper.mask_altaz_artifacts is replaced (by {replaced}): one tile at a time")
        return WorkerPlan("serial", 1, None, "; ".join(why) + " -> one tile after another in this process")
    return WorkerPlan("threads", 2, None, "; ".join(why) + " -> two tiles at once in threads of this process (one "
                      "tile's reads and measures beside the other's kernels)")


def _frame_pixels(frame) -> int:
    """Pixels of one scanned frame (0 when its shape is unknown)."""
    shape = getattr(getattr(frame, "info", None), "shape", None)
    return int(shape[0]) * int(shape[1]) if shape is not None and len(shape) >= 2 else 0


MAIN_GUARD_HINT = ("a master-tile worker process ran the script that started the run while importing it: a script "
                    "that calls run_mosaic with max_workers > 1 must do so under `if __name__ == '__main__':`")


def _replaced_masker() -> str | None:
    """The name of the function a script put in place of ``lecropper.mask_altaz_artifacts`` in this process (the
    original ZeMosaic's hook, :mod:`zemosaic.masks`), or None."""
    masks = sys.modules.get("zemosaic.masks")
    masker = getattr(masks, "mask_altaz_artifacts", None)
    if masker is None or (getattr(masker, "__module__", None) == "zemosaic.masks"
                          and getattr(masker, "__qualname__", None) == "mask_altaz_artifacts"):
        return None
    return f"{getattr(masker, '__module__', '?')}.{getattr(masker, '__qualname__', repr(masker))}"


def check_engine_settings(cfg: ZeMosaicConfig) -> None:
    """Refuse, before a run starts, a ``scheduler`` that is neither empty, ``local`` nor an address, or one set
    where ``dask.distributed`` is not installed (:class:`~zemosaic.config.ConfigError`, one line); and a run
    started by a spawned worker process while it imports the main script (:class:`TileEngineError`: the script
    lacks its ``if __name__ == '__main__':``)."""
    if getattr(multiprocessing.current_process(), "_inheriting", False):  # a spawned worker importing __main__
        raise TileEngineError(MAIN_GUARD_HINT)
    scheduler = cfg.scheduler.strip()
    if not scheduler:
        return
    if scheduler != "local" and "://" not in scheduler:
        raise ConfigError(f"scheduler: {scheduler!r} is neither 'local' nor a scheduler address such as "
                          "tcp://host:8786")
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        raise ConfigError(f"scheduler={scheduler} needs dask.distributed ({exc}): pip install 'zemosaic[cluster]'"
                          ) from None

