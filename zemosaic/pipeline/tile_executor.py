"""Phase 3 engines: the master tiles built one after another, by a pool of local processes, or on a dask cluster.

The groups of Phase 2 are independent, so their tiles can be built at the same time. :class:`TileTask` is one
tile's work (its frames' paths and scan information, its id, the resolved configuration, the tiles folder), picklable
so that another process, or another machine sharing the file system, can build it. An engine runs the tasks and
hands each :class:`~zemosaic.pipeline.master_tile.MasterTileResult` back to the caller in the calling thread as the
tile finishes (:meth:`TileEngine.run`); the caller records them in tile-id order, so the run report, the tiles and
the mosaic are those of a serial run, bit for bit.

engines (:func:`open_tile_engine` chooses from ``max_workers``, ``memory_budget_mb`` and ``scheduler``):

``serial``     in this process, one tile after another (``max_workers=1``, the default)
``processes``  a :class:`concurrent.futures.ProcessPoolExecutor` of "spawn" processes (safe with the threads of
               numba and of the caller); each worker's log records and progress events come back to this process
               through a multiprocessing queue, tagged ``[tile N]``, and go to ``zemosaic.log`` and the progress
               callback from the calling thread
``dask``       the same tasks submitted to a ``dask.distributed`` scheduler (``scheduler='tcp://host:8786'``, or
               ``'local'`` for a ``LocalCluster`` on this machine): :mod:`zemosaic.pipeline.tile_dask`

What makes the tiles identical whatever the engine: the task carries the frames' WCS to the last bit (the FITS
text of astropy's own pickling rounds them, :func:`encode_wcs`), the numba kernels give the same result for any
thread count (they only split rows or pixels among threads), and a worker's numba threads are bounded to its share
of the cores so that two workers do not oversubscribe the machine.
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import logging.handlers
import multiprocessing
import os
import queue as queue_module
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zemosaic.config import ConfigError, ZeMosaicConfig
from zemosaic.pipeline.report import TileReport
from zemosaic.progress import ProgressCallback, ProgressEvent

if TYPE_CHECKING:  # master_tile pulls numba in: a spawned worker sets its thread count before that import
    from zemosaic.pipeline.master_tile import MasterTileResult, ScannedFrame

__all__ = [
    "TileEngineError",
    "TileTask",
    "TileEngine",
    "WorkerPlan",
    "check_engine_settings",
    "plan_workers",
    "open_tile_engine",
    "tile_or_failure",
    "estimate_tile_peak_mb",
    "encode_wcs",
    "decode_wcs",
    # for the engines (zemosaic.pipeline.tile_dask)
    "build_task",
    "check_worker_version",
    "limit_numba_threads",
    "replay_record",
    "TileTagHandler",
    "usable_cores",
]

log = logging.getLogger(__name__)

# a tile's peak RAM besides the stacker's row chunks (measured: bench/bench_master_tile_memory.py, 872 MB for
# Seestar frames with the 768 MB stack budget): a Python process with numpy, astropy, scipy and numba loaded, and
# the frame-sized arrays alive at once (reference and current frame while aligning, the stacked image, its
# coverage maps and alpha, the cropped and written copies)
_PROCESS_BASE_MB = 250.0
_FRAME_COPIES = 8
_STACK_WORKING_FACTOR = 1.5  # the CPU stacker's working memory per input byte of a row chunk
_AUTO_RAM_FRACTION = 0.75  # memory_budget_mb=0: this fraction of the RAM available when Phase 3 starts
POLL_S = 0.05  # how often the calling thread looks at the workers' messages and results


class TileEngineError(RuntimeError):
    """The engine cannot build the tiles: a worker process died, the dask scheduler is unreachable, or a dask
    worker does not see the run's folders (the message says which and what to do)."""


# ================================================================================================
# the task
# ================================================================================================
@dataclass(frozen=True)
class TileTask:
    """One master tile to build: everything a worker needs, picklable (frames' WCS kept to the last bit)."""

    tile_id: int
    members: tuple[ScannedFrame, ...]
    reference: int
    cfg: ZeMosaicConfig
    tiles_dir: Path
    log_level: int = logging.INFO
    send_progress: bool = True
    zemosaic_version: str = ""

    def __reduce__(self):
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fields["members"] = tuple(_encode_member(m) for m in self.members)
        return (_restore_task, (fields,))

    def peak_mb(self) -> float:
        """Estimated peak RAM of this tile (MB), :func:`estimate_tile_peak_mb`."""
        return estimate_tile_peak_mb(self.members, self.cfg)


def _restore_task(fields: dict) -> TileTask:
    fields = dict(fields)
    fields["members"] = tuple(_decode_member(m) for m in fields["members"])
    return TileTask(**fields)


def _encode_member(frame) -> tuple:
    info = frame.info
    wcs = getattr(info, "wcs", None)
    if wcs is None:
        return (type(frame), frame.path, info, None)
    return (type(frame), frame.path, dataclasses.replace(info, wcs=None), encode_wcs(wcs))


def _decode_member(state: tuple):
    kind, path, info, wcs_state = state
    if wcs_state is not None:
        info = dataclasses.replace(info, wcs=decode_wcs(wcs_state))
    return kind(path, info)


# ------------------------------------------------------------------------------------------------
# WCS to the last bit
# ------------------------------------------------------------------------------------------------
_warned_inexact_wcs = False


def encode_wcs(wcs) -> tuple:
    """A picklable state of ``wcs`` that :func:`decode_wcs` turns back into the same WCS to the last bit.

    astropy pickles a WCS as FITS text, whose cards round CRVAL, CRPIX and the matrix in their last digits; a tile
    built from such a copy could differ from the serial run's (its cropped CRPIX printed with one digit less, its
    frames ordered differently on a tie). Here the core keywords are written at 17 significant digits (wcslib's
    ``WCSHDO_P17``: a double read back exactly) and the SIP polynomials travel as arrays. The state is checked by
    decoding it; a WCS it cannot carry exactly (distortion lookup tables) travels as astropy pickles it, with one
    WARNING line."""
    global _warned_inexact_wcs
    state = _exact_wcs_state(wcs)
    if state is not None and _same_wcs(wcs, decode_wcs(state)):
        return state
    if not _warned_inexact_wcs:
        _warned_inexact_wcs = True
        log.warning("a frame WCS cannot be sent to a worker to the last bit (distortion tables?): its tile may "
                    "differ from a serial run's in the last digits")
    return ("pickle", wcs)


def decode_wcs(state: tuple):
    """The WCS of an :func:`encode_wcs` state."""
    if state[0] == "pickle":
        return state[1]
    from astropy.io import fits
    from astropy.wcs import WCS, Sip

    _, header_text, ctype, sip, pixel_shape, pixel_bounds = state
    wcs = WCS(fits.Header.fromstring(header_text), relax=True)
    if sip is not None:
        a, b, ap, bp, crpix = sip
        wcs.sip = Sip(a, b, ap, bp, crpix)
        wcs.wcs.ctype = list(ctype)
        wcs.wcs.set()
    wcs.pixel_shape = pixel_shape
    wcs.pixel_bounds = pixel_bounds
    return wcs


def _exact_wcs_state(wcs) -> tuple | None:
    from astropy import wcs as astropy_wcs

    if wcs.cpdis1 is not None or wcs.cpdis2 is not None or wcs.det2im1 is not None or wcs.det2im2 is not None:
        return None
    try:  # int flags: wcslib's text of the core keywords only (no SIP cards), 17 significant digits
        header_text = wcs.to_header_string(relax=astropy_wcs.WCSHDO_all | astropy_wcs.WCSHDO_P17)
    except Exception:  # noqa: BLE001 - an unusual WCS: it travels as astropy pickles it (encode_wcs)
        return None
    sip = None
    if wcs.sip is not None:
        s = wcs.sip
        sip = tuple(None if m is None else m.copy() for m in (s.a, s.b, s.ap, s.bp)) + (s.crpix.copy(),)
    pixel_shape = tuple(wcs.pixel_shape) if wcs.pixel_shape is not None else None
    bounds = [tuple(b) for b in wcs.pixel_bounds] if wcs.pixel_bounds is not None else None
    return ("exact", header_text, tuple(wcs.wcs.ctype), sip, pixel_shape, bounds)


def _same_wcs(a, b) -> bool:
    import numpy as np

    try:
        wa, wb = a.wcs, b.wcs
        arrays = [(wa.crval, wb.crval), (wa.crpix, wb.crpix), (wa.get_pc() * wa.get_cdelt()[:, None],
                                                               wb.get_pc() * wb.get_cdelt()[:, None])]
        if a.sip is not None or b.sip is not None:
            if a.sip is None or b.sip is None:
                return False
            arrays += [(getattr(a.sip, k), getattr(b.sip, k)) for k in ("a", "b", "ap", "bp", "crpix")]
        for x, y in arrays:
            if (x is None) != (y is None) or (x is not None and not np.array_equal(x, y)):
                return False
        if list(wa.ctype) != list(wb.ctype) or a.pixel_shape != b.pixel_shape:
            return False
        if a.to_header_string(relax=True) != b.to_header_string(relax=True):
            return False
        h, w = (a.pixel_shape[1], a.pixel_shape[0]) if a.pixel_shape else (100, 100)
        probe = np.array([[0.0, 0.0], [w - 1.0, 0.0], [0.0, h - 1.0], [w - 1.0, h - 1.0], [(w - 1) / 2, (h - 1) / 2]])
        return bool(np.array_equal(a.all_pix2world(probe, 0), b.all_pix2world(probe, 0)))
    except Exception:  # noqa: BLE001 - a WCS we cannot compare is not carried as "exact"
        return False


# ================================================================================================
# building one tile (the per-tile failure boundary), in any process
# ================================================================================================
def tile_or_failure(create: Callable[..., MasterTileResult], members: Sequence[ScannedFrame], tile_id: int,
                    cfg: ZeMosaicConfig, tiles_dir: Path, reference: int,
                    progress_callback: ProgressCallback | None) -> MasterTileResult:
    """``create(...)`` (:func:`~zemosaic.pipeline.master_tile.create_master_tile`), or a skipped tile whose frames
    carry the error as their reason.

    A deliberate, logged per-tile boundary: an unexpected error in one group (a bug or a data case no check
    foresaw) skips that group, with the traceback in the log, and the run goes on with the others. Memory
    and file-system errors are the machine's, not the group's: they propagate.
    """
    from zemosaic.pipeline.master_tile import MasterTileResult

    try:
        return create(list(members), tile_id, cfg, tiles_dir, reference=reference,
                      progress_callback=progress_callback)
    except (MemoryError, OSError):
        raise
    except Exception as exc:  # noqa: BLE001 - deliberate, logged per-tile boundary (see docstring)
        reason = f"master tile {tile_id} failed ({type(exc).__name__}: {exc})"
        logging.getLogger("zemosaic.pipeline.run").error("%s; its %d frames are skipped", reason, len(members),
                                                         exc_info=True)
        tr = TileReport(tile_id=tile_id, frames_in_group=len(members),
                        frames_failed=[{"path": str(f.path), "reason": reason} for f in members])
        return MasterTileResult(tile_id, None, tr, [(f.path, reason) for f in members])


def build_task(task: TileTask, progress_callback: ProgressCallback | None) -> MasterTileResult:
    from zemosaic.pipeline.master_tile import create_master_tile

    return tile_or_failure(create_master_tile, task.members, task.tile_id, task.cfg, task.tiles_dir, task.reference,
                           progress_callback)


def limit_numba_threads(n: int | None) -> None:
    """At most ``n`` numba threads for the kernels this thread runs (numba's setting is per thread)."""
    if not n:
        return
    import numba

    numba.set_num_threads(max(1, min(int(n), int(getattr(numba.config, "NUMBA_NUM_THREADS", n)))))  # its pool size


def check_worker_version(task: TileTask) -> None:
    from zemosaic import __version__

    if task.zemosaic_version and task.zemosaic_version != __version__:
        raise TileEngineError(f"worker runs zemosaic {__version__}, the run {task.zemosaic_version}: install the "
                              "same version on every worker")


# ================================================================================================
# how many workers
# ================================================================================================
@dataclass(frozen=True)
class WorkerPlan:
    """Which engine builds the tiles, with how many workers and numba threads each, and why (one log line)."""

    engine: str  # "serial", "processes" or "dask"
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


def estimate_tile_peak_mb(members: Sequence[Any], cfg: ZeMosaicConfig) -> float:
    """Peak RAM (MB) one master tile of ``members`` may take: the stacker's row chunks (``stack_memory_budget_mb``,
    or the whole stack when smaller), a few frame-sized arrays and the process itself."""
    if not members:
        return _PROCESS_BASE_MB
    frame_mb = max(_frame_mb(f.info) for f in members)
    stack_mb = min(float(cfg.stack_memory_budget_mb), len(members) * frame_mb * _STACK_WORKING_FACTOR)
    return _PROCESS_BASE_MB + _FRAME_COPIES * frame_mb + stack_mb


def _frame_mb(info) -> float:
    h, w = tuple(info.shape)[:2]
    return h * w * int(getattr(info, "n_channels", 1) or 1) * 4 / 2**20


def plan_workers(cfg: ZeMosaicConfig, tasks: Sequence[TileTask], *, cores: int | None = None,
                 ram_available_mb: float | None = None) -> WorkerPlan:
    """How many tiles to build at once: ``max_workers`` (0: the usable cores), never more than the tiles to
    build, nor more than ``memory_budget_mb`` (0: 3/4 of the RAM available) divided by the largest tile's
    estimated peak (:func:`estimate_tile_peak_mb`); each worker gets ``cores // workers`` numba threads."""
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
    per_tile = max((t.peak_mb() for t in tasks), default=_PROCESS_BASE_MB)
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
        return WorkerPlan("serial", 1, None, "; ".join(why) + " -> one tile after another in this process")
    threads = max(1, cores // workers)
    return WorkerPlan("processes", workers, threads, "; ".join(why) + f" -> {workers} worker processes, {threads} "
                      "numba thread(s) each")


_MAIN_GUARD_HINT = ("a master-tile worker process ran the script that started the run while importing it: a script "
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
        raise TileEngineError(_MAIN_GUARD_HINT)
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


# ================================================================================================
# engines
# ================================================================================================
OnStart = Callable[[TileTask], None]
OnDone = Callable[[TileTask, "MasterTileResult"], None]


class TileEngine:
    """Runs tile tasks; :meth:`run` calls ``on_start`` and ``on_done`` in the calling thread."""

    plan: WorkerPlan

    def run(self, tasks: Sequence[TileTask], on_start: OnStart, on_done: OnDone) -> None:
        raise NotImplementedError

    def close(self, failed: bool) -> None:
        """Release the workers; ``failed``: the run is stopping (interrupt, error), stop them at once."""


class _SerialEngine(TileEngine):
    def __init__(self, plan: WorkerPlan, build: Callable[[TileTask, ProgressCallback | None], MasterTileResult],
                 progress_callback: ProgressCallback | None):
        self.plan, self._build, self._progress = plan, build, progress_callback

    def run(self, tasks, on_start, on_done) -> None:
        for task in tasks:
            on_start(task)
            on_done(task, self._build(task, self._progress))


def _tagged(event: ProgressEvent, tile_id: int) -> ProgressEvent:
    return ProgressEvent(event.phase, event.done, event.total, f"[tile {tile_id}] {event.message}")


def replay_record(record: logging.LogRecord) -> None:
    """Hand a worker's log record to this process's loggers (zemosaic.log, the terminal, the GUI)."""
    logger = logging.getLogger(record.name)
    if logger.isEnabledFor(record.levelno):
        logger.handle(record)


class TileTagHandler(logging.handlers.QueueHandler):
    """A worker's records, their message formatted and prefixed ``[tile N]`` (the tile being built), put on a
    queue (the multiprocessing queue back to the run, or a list for dask)."""

    def __init__(self, sink, tile_id: Callable[[], int | None], thread: int | None = None):
        super().__init__(sink)
        self._tile_id, self._thread = tile_id, thread

    def filter(self, record):  # dask runs several tasks per worker process: one handler per task thread
        if self._thread is not None and record.thread != self._thread:
            return False
        return super().filter(record)

    def prepare(self, record):
        record = super().prepare(record)  # message formatted (traceback included), args dropped
        tile = self._tile_id()
        if tile is not None:
            record.msg = record.message = f"[tile {tile}] {record.msg}"
        return record

    def enqueue(self, record):
        if isinstance(self.queue, list):
            self.queue.append(record)
        else:
            self.queue.put(("log", record))


# ------------------------------------------------------------------------------------------------
# local process pool
# ------------------------------------------------------------------------------------------------
_worker_state: dict[str, Any] = {"queue": None, "tile": None, "numba_threads": None}


def _pool_initializer(messages, log_level: int, numba_threads: int) -> None:
    """In each spawned worker: Ctrl-C is the run's to handle (the run stops the workers), the worker ends with its
    run, stray prints go to stderr (a GUI worker's stdout is its protocol), numba gets its share of the cores,
    records go to the queue."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:  # a run killed with kill -9 takes its workers with it (no tile written behind its back)
        threading.Thread(target=_exit_with_parent, args=(parent.sentinel,), daemon=True,
                         name="zemosaic-parent-watch").start()
    os.environ["NUMBA_NUM_THREADS"] = str(max(1, numba_threads))  # before numba is imported by the first task
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    _worker_state["queue"], _worker_state["numba_threads"] = messages, max(1, numba_threads)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(TileTagHandler(messages, lambda: _worker_state["tile"]))
    root.setLevel(log_level)


def _exit_with_parent(sentinel) -> None:
    import multiprocessing.connection

    multiprocessing.connection.wait([sentinel])
    os._exit(1)


def _pool_build(task: TileTask) -> MasterTileResult:
    """A pool worker builds one tile; ``("start", id)`` first and ``("end", id)`` last on the queue, so the run
    knows every record of the tile has arrived when it reads the end."""
    messages = _worker_state["queue"]
    _worker_state["tile"] = task.tile_id
    messages.put(("start", task.tile_id))
    try:
        check_worker_version(task)
        limit_numba_threads(_worker_state["numba_threads"])
        callback = ((lambda event: messages.put(("progress", _tagged(event, task.tile_id))))
                    if task.send_progress else None)
        return build_task(task, callback)
    finally:
        _worker_state["tile"] = None
        messages.put(("end", task.tile_id))


class _ProcessPoolEngine(TileEngine):
    _END_GRACE_S = 30.0  # a finished tile whose end marker has not come by then is taken as it is

    def __init__(self, plan: WorkerPlan, progress_callback: ProgressCallback | None, log_level: int):
        self.plan, self._progress, self._log_level = plan, progress_callback, log_level
        self._ctx = multiprocessing.get_context("spawn")
        self._messages = self._ctx.Queue()
        self._pool: ProcessPoolExecutor | None = None
        self._started: set[int] = set()
        self._ended: set[int] = set()
        self._on_start: OnStart | None = None
        self._tasks: dict[int, TileTask] = {}

    def run(self, tasks, on_start, on_done) -> None:
        self._on_start, self._tasks = on_start, {t.tile_id: t for t in tasks}
        with _sigint_ignored():  # the workers are spawned while submitting: they inherit SIGINT ignored
            self._pool = ProcessPoolExecutor(self.plan.workers, mp_context=self._ctx, initializer=_pool_initializer,
                                             initargs=(self._messages, self._log_level, self.plan.numba_threads or 1))
            pending = {self._pool.submit(_pool_build, task): task for task in tasks}
        finished: dict[int, tuple[TileTask, MasterTileResult, float]] = {}
        while pending or finished:
            self._drain(POLL_S)
            for future in [f for f in pending if f.done()]:
                task = pending.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool as exc:
                    raise TileEngineError(
                        f"a master-tile worker process died while building tile {task.tile_id}: killed by the "
                        "system (often for lack of memory: lower max_workers or memory_budget_mb), or it could not "
                        f"start (see the lines above; {_MAIN_GUARD_HINT.split(': ', 1)[1]})") from exc
                finished[task.tile_id] = (task, result, time.monotonic())
            for tile_id in sorted(finished):
                task, result, since = finished[tile_id]
                if tile_id in self._ended or time.monotonic() - since > self._END_GRACE_S:
                    del finished[tile_id]
                    on_done(task, result)

    def _drain(self, timeout: float) -> None:
        """Dispatch the workers' messages waiting on the queue (wait up to ``timeout`` for the first)."""
        try:
            message = self._messages.get(timeout=timeout)
        except queue_module.Empty:
            return
        while True:
            kind, payload = message
            if kind == "log":
                replay_record(payload)
            elif kind == "progress":
                if self._progress is not None:
                    self._progress(payload)
            elif kind == "start":
                if payload not in self._started and self._on_start is not None:
                    self._started.add(payload)
                    self._on_start(self._tasks[payload])
            elif kind == "end":
                self._ended.add(payload)
            try:
                message = self._messages.get_nowait()
            except queue_module.Empty:
                return

    def close(self, failed: bool) -> None:
        pool = self._pool
        if pool is not None:
            if failed:
                _terminate_pool_workers(pool)
            pool.shutdown(wait=True, cancel_futures=True)
            if not failed:
                with contextlib.suppress(Exception):
                    self._drain(0.0)
        if failed:
            self._messages.cancel_join_thread()
        self._messages.close()


def _terminate_pool_workers(pool: ProcessPoolExecutor) -> None:
    """Stop the pool's worker processes now (an interrupted or failed run: their tiles are abandoned and their
    temporary files removed by the run once they are gone)."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14
    if terminate is not None:
        terminate()
        return
    processes = getattr(pool, "_processes", None) or {}  # earlier Pythons: the executor's own process table
    for process in list(processes.values()):
        with contextlib.suppress(Exception):
            process.terminate()


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while the block runs (processes started meanwhile inherit that), main thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


# ================================================================================================
# choosing and opening the engine
# ================================================================================================
@contextlib.contextmanager
def open_tile_engine(cfg: ZeMosaicConfig, tasks: Sequence[TileTask],
                     serial_build: Callable[[TileTask, ProgressCallback | None], MasterTileResult],
                     progress_callback: ProgressCallback | None) -> Iterator[TileEngine]:
    """The engine for ``tasks`` (:func:`plan_workers`), its choice logged; closed on exit (its workers stopped at
    once when the block raises: an interruption or an error)."""
    plan = plan_workers(cfg, tasks)
    log.info("PHASE3_WORKERS engine=%s workers=%s numba_threads=%s: %s", plan.engine, plan.workers or "cluster",
             plan.numba_threads or "all", plan.reason)
    engine: TileEngine
    if plan.engine == "serial":
        engine = _SerialEngine(plan, serial_build, progress_callback)
    elif plan.engine == "processes":
        engine = _ProcessPoolEngine(plan, progress_callback, logging.getLogger().getEffectiveLevel())
    else:
        from zemosaic.pipeline.tile_dask import DaskEngine

        engine = DaskEngine(plan, progress_callback)
    failed = True
    try:
        yield engine
        failed = False
    finally:
        engine.close(failed)


def make_task(tile_id: int, members: Sequence[ScannedFrame], reference: int, cfg: ZeMosaicConfig, tiles_dir: Path,
              *, send_progress: bool) -> TileTask:
    """A :class:`TileTask` for this run (log level and version taken from this process)."""
    from zemosaic import __version__

    return TileTask(tile_id, tuple(members), reference, cfg, tiles_dir,
                    log_level=logging.getLogger().getEffectiveLevel(), send_progress=send_progress,
                    zemosaic_version=__version__)

