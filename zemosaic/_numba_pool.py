"""One thread pool for serial ``@njit(nogil=True)`` kernels, instead of ``parallel=True`` ones.

A ``parallel=True`` kernel (numba's parfors) takes 2.5-3x as long to compile on first use as the same loop
written serially (measured: the mosaic's bilinear kernel 1.10 s against 0.39 s, the Lanczos resampler 1.23 s
against 0.51 s, the stack's coverage count 0.5 s against 0.15 s), and the first run after installing pays every
compile. A serial kernel that releases the GIL and takes a ``(start, stop)`` range runs just as fast spread over
this pool by :func:`run_blocks`; :func:`parallel_map` runs Python tasks whose heavy part releases the GIL
(numba kernels, numpy's sorts and medians). One thread per CPU this process may use, or ``NUMBA_NUM_THREADS``.

Any thread may call them, several at once (two master tiles built in two threads share the pool): unlike numba's
"workqueue" threading layer, nothing here forbids concurrent launches. Called from inside one of the pool's own
tasks they run inline, in that task's thread (waiting there for another worker could wait forever).
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

from threadpoolctl import threadpool_limits

__all__ = ["n_threads", "run_blocks", "parallel_map", "blas_on_calling_threads"]

_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()  # two threads asking for the pool first get the same one
_WORKER = threading.local()  # .active is True in the pool's own threads


def n_threads() -> int:
    """Worker threads: ``NUMBA_NUM_THREADS`` if set, else the CPUs this process may use."""
    env = os.environ.get("NUMBA_NUM_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def run_blocks(func, total: int, granule: int, *args) -> list:
    """Call ``func(start, stop, *args)`` over ``[0, total)`` split into about 4 ranges per thread (multiples of
    ``granule``), on the pool; returns the results in range order."""
    units = -(-total // granule)
    parts = max(1, min(units, 4 * n_threads()))
    bounds = [min(total, (units * k // parts) * granule) for k in range(parts + 1)]
    pool = _pool()
    if pool is None or parts == 1:
        return [func(bounds[k], bounds[k + 1], *args) for k in range(parts)]
    futures = [pool.submit(func, bounds[k], bounds[k + 1], *args) for k in range(parts)]
    return [f.result() for f in futures]


def parallel_map(func, items) -> list:
    """``[func(x) for x in items]`` on the pool (results in order); for work that releases the GIL."""
    items = list(items)
    pool = _pool()
    if pool is None or len(items) < 2:
        return [func(x) for x in items]
    return list(pool.map(func, items))


def _pool() -> ThreadPoolExecutor | None:
    """The shared pool; None where the work must run inline (one thread, or a call from one of its tasks)."""
    global _POOL
    threads = n_threads()
    if threads == 1 or getattr(_WORKER, "active", False):
        return None
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="zemosaic-numba",
                                       initializer=_mark_worker)
    return _POOL


def _mark_worker() -> None:
    _WORKER.active = True


def _forget_pool() -> None:  # a forked child has none of its parent's threads
    global _POOL, _POOL_LOCK
    _POOL, _POOL_LOCK = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def blas_on_calling_threads() -> threadpool_limits:
    """numpy's and scipy's BLAS (OpenBLAS) without threads of their own while the result is held (a context
    manager; the limits the process had come back on exit), in this process.

    A run spreads its work over its own threads (this pool, the read-ahead, two master tiles at once). BLAS's
    threads would add nothing to the small products a run makes (the star finder's sky mesh, the fits) and, after
    each, busy-wait for the next one on the cores the run's threads need: measured 46 ms of CPU per frame in the
    frame measures, 2-3 CPU-s of a 48-frame full-size run; every output of the bench's runs hashes the same with one
    BLAS thread as with two.
    """
    return threadpool_limits(limits=1, user_api="blas")
