"""What every Phase 3 engine shares: the engine interface (:class:`TileEngine`), the engines that build in the run's
process (:class:`SerialEngine`, :class:`ThreadedEngine`), and the workers' log records and progress events tagged
with their tile (``[tile N]``) and replayed in the run's process."""
from __future__ import annotations

import contextlib
import logging
import logging.handlers
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING

from zemosaic.pipeline.tile_plan import WorkerPlan
from zemosaic.pipeline.tile_task import TileTask
from zemosaic.progress import ProgressCallback, ProgressEvent

if TYPE_CHECKING:  # master_tile pulls numba in: a spawned worker sets its thread count before that import
    from zemosaic.pipeline.master_tile import MasterTileResult

__all__ = ["POLL_S", "TileEngine", "SerialEngine", "ThreadedEngine", "TileTagHandler", "replay_record",
           "tagged_event", "tile_tagged"]

POLL_S = 0.05  # how often the calling thread looks at the workers' messages and results


OnStart = Callable[[TileTask], None]
OnDone = Callable[[TileTask, "MasterTileResult"], None]


class TileEngine:
    """Runs tile tasks; :meth:`run` calls ``on_start`` and ``on_done`` in the calling thread."""

    plan: WorkerPlan

    def run(self, tasks: Sequence[TileTask], on_start: OnStart, on_done: OnDone) -> None:
        raise NotImplementedError

    def close(self, failed: bool) -> None:
        """Release the workers; ``failed``: the run is stopping (interrupt, error), stop them at once."""


class SerialEngine(TileEngine):
    def __init__(self, plan: WorkerPlan, build: Callable[[TileTask, ProgressCallback | None], MasterTileResult],
                 progress_callback: ProgressCallback | None):
        self.plan, self._build, self._progress = plan, build, progress_callback

    def run(self, tasks, on_start, on_done) -> None:
        for task in tasks:
            on_start(task)
            on_done(task, self._build(task, self._progress))


class TileStopped(BaseException):
    """Raised in a tile's thread at its next progress event once the run stops (an interrupt, another tile's
    error): a thread cannot be killed, and the run must not wait for the whole tile. A BaseException, so that the
    per-tile failure boundary does not take it for the tile's own error."""


class ThreadedEngine(TileEngine):
    """``plan.workers`` tiles at once, each in a thread of the run's process, their kernels sharing one thread pool
    (:mod:`zemosaic._numba_pool`): one tile's single-threaded steps (reading and measuring frames, writing the
    tile) run while the other's kernels use the cores. No process to start, no task to pickle; each tile is the one
    a serial run builds (the kernels split rows, not results, among threads). The tiles' log records are tagged
    ``[tile N]``; their progress events go to the callback from the calling thread, like their results."""

    def __init__(self, plan: WorkerPlan, build: Callable[[TileTask, ProgressCallback | None], MasterTileResult],
                 progress_callback: ProgressCallback | None):
        self.plan, self._build, self._progress = plan, build, progress_callback
        self._events: queue.SimpleQueue[ProgressEvent] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._tags = _ThreadTileTags()

    def run(self, tasks, on_start, on_done) -> None:
        todo: Iterator[TileTask] = iter(tasks)
        running: dict[Future, TileTask] = {}
        with self._tags.installed(), ThreadPoolExecutor(self.plan.workers, "zemosaic-tile") as pool:
            try:
                for task in todo:
                    self._submit(pool, task, running, on_start)
                    if len(running) == self.plan.workers:
                        break
                while running:
                    finished, _ = wait(running, timeout=POLL_S, return_when=FIRST_COMPLETED)
                    self._replay_events()
                    for future in finished:
                        on_done(running.pop(future), future.result())
                        following = next(todo, None)
                        if following is not None:
                            self._submit(pool, following, running, on_start)
                self._replay_events()
            except BaseException:  # an interrupt, a tile's machine error, or the callback's own (a cancel)
                self._stop.set()  # the tiles still running stop at their next progress event
                raise

    def close(self, failed: bool) -> None:
        if failed:
            self._stop.set()

    def _submit(self, pool: ThreadPoolExecutor, task: TileTask, running: dict, on_start: OnStart) -> None:
        on_start(task)
        running[pool.submit(self._build_tagged, task)] = task

    def _build_tagged(self, task: TileTask) -> MasterTileResult:
        def forward(event: ProgressEvent) -> None:
            if self._stop.is_set():
                raise TileStopped(f"master tile {task.tile_id}: the run stopped")
            if self._progress is not None:
                self._events.put(tagged_event(event, task.tile_id))

        with self._tags.tagging(task.tile_id):
            return self._build(task, forward)

    def _replay_events(self) -> None:
        while self._progress is not None:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return
            self._progress(event)


class _ThreadTileTags(logging.Filter):
    """Prefixes ``[tile N]`` to the records logged by a thread while it builds tile N, on every handler of the
    root and ``zemosaic`` loggers (the log file, the terminal, the window)."""

    def __init__(self):
        super().__init__()
        self._tiles: dict[int, int] = {}  # thread ident -> tile id

    def filter(self, record: logging.LogRecord) -> bool:
        tile = self._tiles.get(record.thread or 0)
        if tile is not None and not getattr(record, "zemosaic_tile_tagged", False):
            record.msg, record.args = tile_tagged(tile, record.getMessage()), None
            record.zemosaic_tile_tagged = True  # the next handler sees the same record
        return True

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        handlers = {h for name in ("", "zemosaic") for h in logging.getLogger(name).handlers}
        for handler in handlers:
            handler.addFilter(self)
        try:
            yield
        finally:
            for handler in handlers:
                handler.removeFilter(self)

    @contextlib.contextmanager
    def tagging(self, tile_id: int) -> Iterator[None]:
        ident = threading.get_ident()
        self._tiles[ident] = tile_id
        try:
            yield
        finally:
            self._tiles.pop(ident, None)


def tagged_event(event: ProgressEvent, tile_id: int) -> ProgressEvent:
    return ProgressEvent(event.phase, event.done, event.total, tile_tagged(tile_id, event.message))


def tile_tagged(tile_id: int, text: str) -> str:
    """``text`` prefixed with the tile it comes from, as every engine tags its tiles' log lines and events."""
    return f"[tile {tile_id}] {text}"


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
            record.msg = record.message = tile_tagged(tile, record.msg)
        return record

    def enqueue(self, record):
        if isinstance(self.queue, list):
            self.queue.append(record)
        else:
            self.queue.put(("log", record))

