"""One master tile's work, in any process: :class:`TileTask` (picklable, its frames' WCS kept to the last bit), the
per-tile failure boundary that builds it (:func:`tile_or_failure`, :func:`build_task`) and its estimated peak RAM.

A task is built in the run's process (the serial engine), in a spawned worker process (:mod:`zemosaic.pipeline.
tile_pool`) or on a dask worker (:mod:`zemosaic.pipeline.tile_dask`). This module does not load numba: a spawned
worker sets its numba thread count (``NUMBA_NUM_THREADS``) before the first task imports the master-tile code.
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zemosaic._version import __version__
from zemosaic.config import ZeMosaicConfig
from zemosaic.pipeline.report import TileReport
from zemosaic.progress import ProgressCallback

if TYPE_CHECKING:  # master_tile pulls numba in: a spawned worker sets its thread count before that import
    from zemosaic.pipeline.master_tile import MasterTileResult, ScannedFrame

__all__ = [
    "TileEngineError",
    "TileTask",
    "make_task",
    "tile_or_failure",
    "build_task",
    "limit_numba_threads",
    "check_worker_version",
    "estimate_tile_peak_mb",
    "encode_wcs",
    "decode_wcs",
]

log = logging.getLogger(__name__)

# a tile's peak RAM besides the stacker's row chunks (measured: bench/bench_master_tile_memory.py, 872 MB for
# Seestar frames with the 768 MB stack budget): a Python process with numpy, astropy, scipy and numba loaded, and
# the frame-sized arrays alive at once (reference and current frame while aligning, the stacked image, its
# coverage maps and alpha, the cropped and written copies)
PROCESS_BASE_MB = 250.0
_FRAME_COPIES = 8
_STACK_WORKING_FACTOR = 1.5  # the CPU stacker's working memory per input byte of a row chunk


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
    from zemosaic.pipeline.master_tile import MasterTileResult  # process start: see the module docstring

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
    from zemosaic.pipeline.master_tile import create_master_tile  # process start: see the module docstring

    return tile_or_failure(create_master_tile, task.members, task.tile_id, task.cfg, task.tiles_dir, task.reference,
                           progress_callback)


def limit_numba_threads(n: int | None) -> None:
    """At most ``n`` numba threads for the kernels this thread runs (numba's setting is per thread)."""
    if not n:
        return
    import numba

    numba.set_num_threads(max(1, min(int(n), int(getattr(numba.config, "NUMBA_NUM_THREADS", n)))))  # its pool size


def check_worker_version(task: TileTask) -> None:
    """Refuse a task sent by a run of another zemosaic version (:class:`TileEngineError`)."""
    if task.zemosaic_version and task.zemosaic_version != __version__:
        raise TileEngineError(f"worker runs zemosaic {__version__}, the run {task.zemosaic_version}: install the "
                              "same version on every worker")



def estimate_tile_peak_mb(members: Sequence[Any], cfg: ZeMosaicConfig) -> float:
    """Peak RAM (MB) one master tile of ``members`` may take: the stacker's row chunks (``stack_memory_budget_mb``,
    or the whole stack when smaller), a few frame-sized arrays and the process itself."""
    if not members:
        return PROCESS_BASE_MB
    frame_mb = max(_frame_mb(f.info) for f in members)
    stack_mb = min(float(cfg.stack_memory_budget_mb), len(members) * frame_mb * _STACK_WORKING_FACTOR)
    return PROCESS_BASE_MB + _FRAME_COPIES * frame_mb + stack_mb


def _frame_mb(info) -> float:
    h, w = tuple(info.shape)[:2]
    return h * w * int(getattr(info, "n_channels", 1) or 1) * 4 / 2**20



def make_task(tile_id: int, members: Sequence[ScannedFrame], reference: int, cfg: ZeMosaicConfig, tiles_dir: Path,
              *, send_progress: bool) -> TileTask:
    """A :class:`TileTask` for this run (log level and version taken from this process)."""
    return TileTask(tile_id, tuple(members), reference, cfg, tiles_dir,
                    log_level=logging.getLogger().getEffectiveLevel(), send_progress=send_progress,
                    zemosaic_version=__version__)

