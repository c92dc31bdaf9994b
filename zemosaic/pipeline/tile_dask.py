"""Phase 3 on a dask.distributed cluster: the tile tasks of :mod:`zemosaic.pipeline.tile_executor` submitted to a
scheduler, for the runs that outgrow one machine.

``scheduler='tcp://host:8786'`` connects to a running scheduler; ``scheduler='local'`` starts a ``LocalCluster`` of
``max_workers`` processes for the run (and stops it after Phase 3). The workers read the frames and write the tiles
on a file system they share with the run, at the same paths (the run passes absolute paths; a worker that does not
see the tiles folder stops the run with :class:`~zemosaic.pipeline.tile_task.TileEngineError`), and must run the
same zemosaic version. A tile's log records come back with its result, tagged ``[tile N]``; its progress events come
as dask worker events (``Worker.log_event`` / ``Client.subscribe_topic``) while it runs. Each task limits its numba
threads to its host's cores divided by the dask threads on that host. dask cannot stop a task that is running: an
interrupted run cancels the tiles not started and stops a LocalCluster; tiles running on a remote cluster finish or
fail on their own, their tiles without a resume manifest.
"""
from __future__ import annotations

import contextlib
import logging
import queue as queue_module
import threading
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from zemosaic.pipeline.tile_plan import WorkerPlan, usable_cores
from zemosaic.pipeline.tile_task import (
    TileEngineError,
    TileTask,
    build_task,
    check_worker_version,
    limit_numba_threads,
)
from zemosaic.pipeline.tile_workers import POLL_S, TileEngine, TileTagHandler, replay_record, tile_tagged
from zemosaic.progress import ProgressCallback, ProgressEvent

if TYPE_CHECKING:
    from zemosaic.pipeline.master_tile import MasterTileResult

__all__ = ["DaskEngine"]

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------------
@dataclass
class _DaskOutcome:
    result: MasterTileResult
    records: list[logging.LogRecord]
    worker: str


def _dask_build(task: TileTask, topic: str, slots_per_host: dict[str, int]) -> _DaskOutcome:
    """A dask worker builds one tile: its records come back with the result, its progress as worker events."""
    from distributed import get_worker

    worker = get_worker()
    check_worker_version(task)
    if not task.tiles_dir.is_dir():
        raise TileEngineError(f"dask worker {worker.address} does not see the run's folder {task.tiles_dir}: the "
                              "input and output folders must be on a file system every worker mounts at the same "
                              "path")
    host = _host_of(worker.address)
    limit_numba_threads(max(1, usable_cores() // max(1, slots_per_host.get(host, 1))))
    records: list[logging.LogRecord] = []
    handler = TileTagHandler(records, lambda: task.tile_id, thread=threading.get_ident())
    handler.setLevel(task.log_level)
    logging.getLogger("zemosaic").setLevel(min(task.log_level, logging.getLogger("zemosaic").getEffectiveLevel()))
    root = logging.getLogger()
    root.addHandler(handler)
    worker.log_event(topic, ("start", task.tile_id))

    def progress(event: ProgressEvent) -> None:
        worker.log_event(topic, ("progress", task.tile_id, event.phase, event.done, event.total, event.message))

    try:
        result = build_task(task, progress if task.send_progress else None)
    finally:
        root.removeHandler(handler)
    return _DaskOutcome(result, records, worker.address)


def _host_of(address: str) -> str:
    rest = address.split("://", 1)[-1]
    return rest.rsplit(":", 1)[0]


class DaskEngine(TileEngine):
    """The tiles on a dask.distributed cluster: a scheduler's address, or a LocalCluster started for the run."""

    def __init__(self, plan: WorkerPlan, progress_callback: ProgressCallback | None):
        from distributed import Client

        self.plan, self._progress = plan, progress_callback
        self._cluster = None
        self._futures: list = []
        try:
            if plan.scheduler == "local":
                from distributed import LocalCluster

                self._cluster = LocalCluster(n_workers=plan.workers, threads_per_worker=1, processes=True,
                                             memory_limit=0, dashboard_address=None)
                self._client = Client(self._cluster)
            else:
                self._client = Client(plan.scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            self._close_cluster()
            raise TileEngineError(f"cannot reach the dask scheduler {plan.scheduler}: {exc}") from exc
        info = self._client.scheduler_info()
        workers = info.get("workers", {})
        self.slots_per_host: dict[str, int] = {}
        for address, w in workers.items():
            host = _host_of(address)
            self.slots_per_host[host] = self.slots_per_host.get(host, 0) + int(w.get("nthreads", 1))
        log.info("dask: scheduler %s, %d worker(s), %d thread(s) in all%s", info.get("address", plan.scheduler),
                 len(workers), sum(self.slots_per_host.values()),
                 " (a LocalCluster of this run)" if self._cluster is not None else "")
        if not workers:
            log.warning("dask: the scheduler has no worker yet: the tiles wait for one")

    def run(self, tasks, on_start, on_done) -> None:
        topic = f"zemosaic-{uuid.uuid4().hex}"
        events: queue_module.SimpleQueue = queue_module.SimpleQueue()
        self._client.subscribe_topic(topic, lambda event: events.put(event[1]))
        by_id = {t.tile_id: t for t in tasks}
        pending = {}
        for task in tasks:
            future = self._client.submit(_dask_build, task, topic, self.slots_per_host, pure=False,
                                         key=f"zemosaic-tile-{task.tile_id:04d}-{topic[9:17]}")
            pending[future] = task
        self._futures = list(pending)
        started: set[int] = set()
        done: set[int] = set()
        try:
            while pending:
                self._dispatch(events, by_id, started, done, on_start)
                for future in [f for f in pending if f.done()]:
                    task = pending.pop(future)
                    outcome = self._outcome(future, task)
                    for record in outcome.records:
                        replay_record(record)
                    log.debug("master tile %d built on dask worker %s", task.tile_id, outcome.worker)
                    done.add(task.tile_id)
                    on_done(task, outcome.result)
                time.sleep(POLL_S)
        finally:
            with contextlib.suppress(Exception):
                self._client.unsubscribe_topic(topic)

    def _dispatch(self, events, by_id, started, done, on_start) -> None:
        while True:
            try:
                event = events.get_nowait()
            except queue_module.Empty:
                return
            if event[0] == "start":
                tile_id = event[1]
                if tile_id not in started and tile_id not in done:
                    started.add(tile_id)
                    on_start(by_id[tile_id])
            elif event[0] == "progress" and self._progress is not None and event[1] not in done:
                _, tile_id, phase, n_done, total, message = event
                self._progress(ProgressEvent(phase, n_done, total, tile_tagged(tile_id, message)))

    @staticmethod
    def _outcome(future, task: TileTask) -> _DaskOutcome:
        try:
            return future.result()
        except (MemoryError, OSError, TileEngineError):
            raise
        except Exception as exc:  # noqa: BLE001 - a lost worker (KilledWorker...) is the engine's, not the tile's
            if type(exc).__name__ == "KilledWorker":
                raise TileEngineError(f"dask workers died while building tile {task.tile_id} (out of memory?): "
                                      f"{exc}") from exc
            raise

    def close(self, failed: bool) -> None:
        if failed and self._futures:
            with contextlib.suppress(Exception):
                self._client.cancel(self._futures, force=True)
        with contextlib.suppress(Exception):
            self._client.close()
        self._close_cluster()

    def _close_cluster(self) -> None:
        if self._cluster is not None:
            with contextlib.suppress(Exception):
                self._cluster.close()
            self._cluster = None
