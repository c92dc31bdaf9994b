"""Phase 3 engines: the master tiles built one after another, by a pool of local processes, or on a dask cluster.

The groups of Phase 2 are independent, so their tiles can be built at the same time. :class:`TileTask` is one
tile's work (its frames' paths and scan information, its id, the resolved configuration, the tiles folder), picklable
so that another process, or another machine sharing the file system, can build it. An engine runs the tasks and
hands each :class:`~zemosaic.pipeline.master_tile.MasterTileResult` back to the caller in the calling thread as the
tile finishes (:meth:`TileEngine.run`); the caller records them in tile-id order, so the run report, the tiles and
the mosaic are those of a serial run, bit for bit.

engines (:func:`open_tile_engine` chooses from ``max_workers``, ``memory_budget_mb`` and ``scheduler``):

``threads``    in this process, two tiles at once in two threads (``max_workers=1``, the default, where two cores,
               two tiles and the memory for two allow; a GPU run or a replaced masker builds one at a time)
``serial``     in this process, one tile after another (``max_workers=1`` where ``threads`` is not possible)
``processes``  a :class:`concurrent.futures.ProcessPoolExecutor` of "spawn" processes (safe with the threads of
               numba and of the caller); each worker's log records and progress events come back to this process
               through a multiprocessing queue, tagged ``[tile N]``, and go to ``zemosaic.log`` and the progress
               callback from the calling thread
``dask``       the same tasks submitted to a ``dask.distributed`` scheduler (``scheduler='tcp://host:8786'``, or
               ``'local'`` for a ``LocalCluster`` on this machine): :mod:`zemosaic.pipeline.tile_dask`

One module per job: :mod:`~zemosaic.pipeline.tile_task` (the task, building it in any process),
:mod:`~zemosaic.pipeline.tile_plan` (how many workers), :mod:`~zemosaic.pipeline.tile_workers` (the engine
interface, the serial engine, the workers' tagged log records), :mod:`~zemosaic.pipeline.tile_pool` (local worker
processes), :mod:`~zemosaic.pipeline.tile_dask` (a dask cluster); this module chooses and opens the engine.

What makes the tiles identical whatever the engine: the task carries the frames' WCS to the last bit (the FITS
text of astropy's own pickling rounds them, :func:`encode_wcs`), the numba kernels give the same result for any
thread count (they only split rows or pixels among threads), and a worker's numba threads are bounded to its share
of the cores so that two workers do not oversubscribe the machine.
"""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from zemosaic.config import ZeMosaicConfig
from zemosaic.pipeline.tile_dask import DaskEngine
from zemosaic.pipeline.tile_plan import plan_workers
from zemosaic.pipeline.tile_pool import ProcessPoolEngine
from zemosaic.pipeline.tile_task import TileTask
from zemosaic.pipeline.tile_workers import SerialEngine, ThreadedEngine, TileEngine
from zemosaic.progress import ProgressCallback

if TYPE_CHECKING:  # master_tile pulls numba in: a spawned worker sets its thread count before that import
    from zemosaic.pipeline.master_tile import MasterTileResult

__all__ = ["open_tile_engine"]

log = logging.getLogger(__name__)


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
        engine = SerialEngine(plan, serial_build, progress_callback)
    elif plan.engine == "threads":
        engine = ThreadedEngine(plan, serial_build, progress_callback)
    elif plan.engine == "processes":
        engine = ProcessPoolEngine(plan, progress_callback, logging.getLogger().getEffectiveLevel())
    else:
        engine = DaskEngine(plan, progress_callback)
    failed = True
    try:
        yield engine
        failed = False
    finally:
        engine.close(failed)


