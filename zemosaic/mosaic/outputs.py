"""The mosaic's files (Phase 6): ``mosaic.fits`` (data, WCS, ``WEIGHT`` extension) and ``mosaic_preview.png``,
each written atomically: :func:`write_mosaic_outputs`.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zemosaic.io import fits as fits_io
from zemosaic.mosaic.coadd import MosaicResult

__all__ = [
    "MosaicOutputs",
    "write_mosaic_outputs",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MosaicOutputs:
    """Files written by :func:`write_mosaic_outputs`."""

    fits: Path
    preview: Path | None = None

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file written."""
        return tuple(p for p in (self.fits, self.preview) if p is not None)


def write_mosaic_outputs(result: MosaicResult, out_dir: str | os.PathLike, *, write_preview: bool = True,
                         header_extra: Mapping | None = None) -> MosaicOutputs:
    """Write ``OUT/mosaic.fits`` (float32 ``3 x H x W`` or ``H x W`` + WCS, extension ``WEIGHT``) and
    ``OUT/mosaic_preview.png`` (stretched, transparent where the weight is 0), each atomically.

    Parameters
    ----------
    result : MosaicResult
    out_dir : str or os.PathLike
        Output folder (created if missing).
    write_preview : bool
        Also write the PNG preview.
    header_extra : Mapping, optional
        Extra primary-header keywords (``key -> value`` or ``key -> (value, comment)``).

    Returns
    -------
    MosaicOutputs
    """
    out_dir = Path(out_dir)
    extra = {"NTILES": (int(result.n_tiles), "master tiles co-added"),
             "BUNIT": ("ADU", "weighted mean of the master tiles")}
    extra.update(dict(header_extra or {}))
    fits_path = fits_io.write_fits_image(out_dir / "mosaic.fits", result.data, wcs=result.grid.wcs,
                                         header_extra=extra, extensions={"WEIGHT": result.weight})
    preview_path = None
    if write_preview:
        from zemosaic.io import preview  # PIL only needed when a preview is written

        preview_path = preview.write_preview_png(out_dir / "mosaic_preview.png", result.data,
                                                 alpha=(result.weight > 0).astype(np.float32))
    log.info("mosaic written: %s%s", fits_path, f", {preview_path}" if preview_path else "")
    return MosaicOutputs(fits=fits_path, preview=preview_path)
