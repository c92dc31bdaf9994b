"""The sky left in the assembled mosaic: a smooth, star- and nebula-aware background model, and its removal.

Background matching (Phase 3) makes every frame match its tile's reference frame, and the harmony (Phase 4.5) makes
the tiles match each other, so the light-pollution gradient and colour cast of the reference frames survive into the
mosaic. :func:`fit_mosaic_sky` models what is left, per channel, on a decimated copy of the mosaic (the mosaic itself
may be a memmap and is never loaded whole):

* the sky is sampled on a coarse grid of cells (star-clipped block medians of the decimated copy);
* a low-order 2D polynomial (``plane``: order 1, ``surface``: order 3) is fitted to the cells, rejecting
  iteratively the cells brighter than the sky distribution (the dark side of the distribution is the sky), a cell
  bright in any channel being rejected in all, and the cells next to a cluster of bright cells too (the faint wings
  of a nebula);
* after the surface is subtracted, per-channel offsets make the sky median of R and B equal to that of G
  (neutralisation at the level of the green channel).

The cell sampling and the clipped fit are those of :func:`zemosaic.background.fit_reference_flattening` (the frame
level flattening), applied to the mosaic; this module adds the decimation, the neutralisation and the row-chunked
subtraction. Nebula protection is the bright-cell rejection only: a nebula that covers most of the mosaic, or whose
faint wings sit below the clip over large areas, is partly taken for sky (see ``README.md``).
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import numpy as np

from zemosaic._stats import mad_sigma
from zemosaic.background import BackgroundMatch, as_hwc, block_median_grid, check_images, fit_reference_flattening

__all__ = ["MOSAIC_BACKGROUND_MODELS", "MosaicSky", "fit_mosaic_sky", "subtract_mosaic_sky"]

log = logging.getLogger(__name__)

MOSAIC_BACKGROUND_MODELS = ("none", "plane", "surface")
"""Values of the ``mosaic_background`` configuration key."""

_ORDERS = {"plane": 1, "surface": 3}
_MAX_DECIMATED_SIDE = 512    # the decimated copy has at most this many samples on its long side
_CELL = 4                    # cell side in decimated samples (the block of fit_reference_flattening's sampling)
_SKY_CLIP_HIGH = 2.0         # neutralisation: cells this many robust sigmas above the sky are not sky
_SKY_CLIP_LOW = 4.0          # ... and this many below are outliers
_GREEN = 1


@dataclass(frozen=True, eq=False)
class MosaicSky:
    """A fitted mosaic sky: a smooth surface per channel (median 0 over the sky cells) and neutralising offsets.

    Attributes
    ----------
    model : str
        ``"plane"`` or ``"surface"``.
    surface : zemosaic.background.BackgroundMatch
        The smooth surface on the full mosaic grid (gain 1); :meth:`apply` subtracts it.
    offsets : numpy.ndarray
        ``(C,)`` added after the subtraction so the sky median of every channel equals green's (zeros for mono).
    sky_level : numpy.ndarray
        ``(C,)`` sky median per channel after the surface subtraction, before the offsets.
    step : int
        Decimation step of the copy the model was fitted on.
    n_cells, n_sky_cells : int
        Cells sampled over the covered area, and those kept as sky by the surface fit.
    """

    model: str
    surface: BackgroundMatch
    offsets: np.ndarray
    sky_level: np.ndarray
    step: int
    n_cells: int
    n_sky_cells: int

    def apply(self, chunk: np.ndarray, row0: int) -> np.ndarray:
        """Rows ``row0 : row0 + len(chunk)`` of the mosaic with the sky removed and neutralised (float32, NaN kept).

        Raises
        ------
        ValueError
            If the chunk does not fit the mosaic's shape (see :meth:`BackgroundMatch.apply`).
        """
        out = self.surface.apply(chunk, row0)
        if out.ndim == 3:
            out += self.offsets.astype(np.float32)
        return out

    def as_dict(self) -> dict:
        """JSON-able record for the run report: model, order, per-channel coefficients, surface summary, cells."""
        d = self.surface.as_dict()
        d.pop("gain", None)
        return {"model": self.model, **d, "coeffs": np.round(self.surface.coeffs, 4).tolist(),
                "neutral_offsets": np.round(self.offsets, 3).tolist(),
                "sky_level": np.round(self.sky_level, 3).tolist(), "decimation_step": self.step,
                "cells": self.n_cells, "sky_cells": self.n_sky_cells,
                "rejected_cells": max(self.n_cells - self.n_sky_cells, 0)}


def fit_mosaic_sky(data: np.ndarray, weight: np.ndarray | None = None, *, model: str = "surface",
                   neutralise: bool = True) -> MosaicSky:
    """Fit the smooth sky left in a mosaic, per channel, and the offsets that make it grey.

    Parameters
    ----------
    data : numpy.ndarray
        ``(H, W)`` or ``(H, W, C)`` mosaic, NaN where nothing contributes; a memmap is read only through a
        decimated copy (at most 512 samples on the long side).
    weight : numpy.ndarray, optional
        ``(H, W)`` mosaic weight; only pixels with weight > 0 (and finite in every channel) are sampled.
    model : str
        ``"plane"`` (order-1 polynomial, eats least of a large nebula) or ``"surface"`` (order 3).
    neutralise : bool
        Compute the per-channel offsets that bring the R and B sky medians to green's (3-channel mosaics only).

    Returns
    -------
    MosaicSky
        Its surface is the identity (and ``surface.reason`` says why) when too few cells cover the mosaic.

    Raises
    ------
    ValueError
        On an unknown ``model``, a bad shape or a weight of another shape.
    """
    if model not in _ORDERS:
        raise ValueError(f"model must be one of {', '.join(_ORDERS)}, got {model!r}")
    shape = check_images(data, None, weight)
    step = max(1, -(-max(shape[:2]) // _MAX_DECIMATED_SIDE))
    dec = as_hwc(np.asarray(data[::step, ::step], dtype=np.float32))
    valid = np.isfinite(dec).all(axis=2)
    if weight is not None:
        valid &= np.asarray(weight[::step, ::step]) > 0
    flat = fit_reference_flattening(dec, valid, order=_ORDERS[model], sample_step=1)
    corrected = flat.apply(dec, 0)
    corrected[~valid] = np.nan
    cells = np.stack([block_median_grid(corrected[..., c], _CELL).ravel() for c in range(dec.shape[2])], axis=1)
    cells = cells[np.isfinite(cells).all(axis=1)]
    level = _sky_median(cells)
    offsets = np.zeros(dec.shape[2])
    if neutralise and dec.shape[2] == 3 and np.isfinite(level).all():
        offsets = level[_GREEN] - level
    b = flat.bounds
    surface = dataclasses.replace(flat, shape=shape, bounds=(b[0] * step, b[1] * step, b[2] * step, b[3] * step))
    sky = MosaicSky(model=model, surface=surface, offsets=offsets, sky_level=level, step=step,
                    n_cells=int(cells.shape[0]), n_sky_cells=int(flat.n_samples))
    log.info("mosaic sky (%s): order %d, %d/%d cells kept as sky, sky level %s, neutral offsets %s%s", model,
             surface.order, sky.n_sky_cells, sky.n_cells, np.round(level, 2).tolist(), np.round(offsets, 2).tolist(),
             f" ({surface.reason})" if surface.reason else "")
    return sky


def subtract_mosaic_sky(data: np.ndarray, sky: MosaicSky, weight: np.ndarray | None = None, *,
                        chunk_rows: int = 256) -> None:
    """Remove ``sky`` from ``data`` in place, ``chunk_rows`` rows at a time (a memmap stays a memmap).

    Pixels with weight 0 (when ``weight`` is given) and NaN pixels are left as they are.

    Raises
    ------
    ValueError
        If ``data`` is not the shape the model was fitted on, or ``chunk_rows`` < 1.
    """
    if tuple(data.shape) != tuple(sky.surface.shape):
        raise ValueError(f"mosaic shape {tuple(data.shape)} differs from the sky model's {sky.surface.shape}")
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
    for row0 in range(0, data.shape[0], chunk_rows):
        chunk = np.asarray(data[row0:row0 + chunk_rows])
        out = sky.apply(chunk, row0)
        if weight is not None:
            empty = np.asarray(weight[row0:row0 + chunk_rows]) <= 0
            out[empty] = chunk[empty]
        data[row0:row0 + chunk_rows] = out


def _sky_median(cells: np.ndarray) -> np.ndarray:
    """(C,) median of the sky cells of an already flat ``(n, C)`` sample: cells brighter than the sky distribution
    (in any channel) rejected iteratively, the dark side being the sky."""
    if cells.shape[0] == 0:
        return np.full(cells.shape[1], np.nan)
    keep = np.ones(cells.shape[0], dtype=bool)
    for _ in range(20):
        med = np.median(cells[keep], axis=0)
        sigma = mad_sigma(cells[keep], axis=0, center=med)
        new_keep = np.all(cells <= med + _SKY_CLIP_HIGH * sigma, axis=1) & np.all(
            cells >= med - _SKY_CLIP_LOW * sigma, axis=1)
        if new_keep.sum() < 3 or np.array_equal(new_keep, keep):
            break
        keep = new_keep
    return np.median(cells[keep], axis=0)
