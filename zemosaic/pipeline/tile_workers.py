"""What every Phase 3 engine shares: the engine interface (:class:`TileEngine`), the serial engine, and the workers'
log records and progress events tagged with their tile (``[tile N]``) and replayed in the run's process."""
from __future__ import annotations

import logging
import logging.handlers
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from zemosaic.pipeline.tile_plan import WorkerPlan
from zemosaic.pipeline.tile_task import TileTask
from zemosaic.progress import ProgressCallback, ProgressEvent

if TYPE_CHECKING:  # master_tile pulls numba in: a spawned worker sets its thread count before that import
    from zemosaic.pipeline.master_tile import MasterTileResult

__all__ = ["POLL_S", "TileEngine", "SerialEngine", "TileTagHandler", "replay_record", "tagged_event"]

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


def tagged_event(event: ProgressEvent, tile_id: int) -> ProgressEvent:
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

