"""Phase 3 on a pool of local worker processes ("spawn": safe with the threads of numba and of the caller): each
worker's log records and progress events come back through a multiprocessing queue, tagged ``[tile N]``, and go to
``zemosaic.log`` and the progress callback from the calling thread."""
from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue as queue_module
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from zemosaic._heap import keep_freed_memory
from zemosaic._numba_pool import blas_on_calling_threads
from zemosaic.pipeline.tile_plan import MAIN_GUARD_HINT, WorkerPlan
from zemosaic.pipeline.tile_task import (
    TileEngineError,
    TileTask,
    build_task,
    check_worker_version,
    limit_numba_threads,
)
from zemosaic.pipeline.tile_workers import (
    POLL_S,
    OnStart,
    TileEngine,
    TileTagHandler,
    replay_record,
    tagged_event,
)
from zemosaic.progress import ProgressCallback

if TYPE_CHECKING:  # master_tile pulls numba in: a spawned worker sets its thread count before that import
    from zemosaic.pipeline.master_tile import MasterTileResult

__all__ = ["ProcessPoolEngine"]

_worker_state: dict[str, Any] = {"queue": None, "tile": None, "numba_threads": None}


def _pool_initializer(messages, log_level: int, numba_threads: int) -> None:
    """In each spawned worker: Ctrl-C is the run's to handle (the run stops the workers), the worker ends with its
    run, stray prints go to stderr (a GUI worker's stdout is its protocol), numba gets its share of the cores,
    records go to the queue."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # started with SIGINT held by the run (_sigint_held): ignored from now on
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    parent = multiprocessing.parent_process()
    if parent is not None:  # a run killed with kill -9 takes its workers with it (no tile written behind its back)
        threading.Thread(target=_exit_with_parent, args=(parent.sentinel,), daemon=True,
                         name="zemosaic-parent-watch").start()
    os.environ["NUMBA_NUM_THREADS"] = str(max(1, numba_threads))  # before numba is imported by the first task
    blas_on_calling_threads()  # for the worker's life (see there)
    keep_freed_memory()  # the same
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
        callback = ((lambda event: messages.put(("progress", tagged_event(event, task.tile_id))))
                    if task.send_progress else None)
        return build_task(task, callback)
    finally:
        _worker_state["tile"] = None
        messages.put(("end", task.tile_id))


class ProcessPoolEngine(TileEngine):
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
        with _sigint_held():  # the workers are spawned while submitting: they start with SIGINT held
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
                        f"start (see the lines above; {MAIN_GUARD_HINT.split(': ', 1)[1]})") from exc
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
def _sigint_held() -> Iterator[None]:
    """SIGINT blocked in this (main) thread while the block runs: processes started meanwhile begin with it blocked
    (their initializer ignores it, then unblocks it), and a Ctrl-C that comes meanwhile is delivered when the block
    ends instead of being lost, as it was while SIGINT was ignored. Without ``pthread_sigmask`` (Windows):
    :func:`_sigint_ignored`."""
    if not hasattr(signal, "pthread_sigmask"):
        with _sigint_ignored():
            yield
        return
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


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

