"""The sky left in the assembled mosaic: a smooth, star- and nebula-aware background model, and its removal.

Background matching (Phase 3) makes every frame match its tile's reference frame, and the harmony (Phase 4.5) makes
the tiles match each other (with a plane per tile, anchored on one tile), so the light-pollution gradient and colour
cast of the reference frames survive into the mosaic as one smooth surface, close to a plane. :func:`fit_mosaic_sky`
models it per channel on a decimated copy of the mosaic (the mosaic itself may be a memmap and is never loaded whole):

* the mosaic is reduced by block means (at most 512 samples on its long side), then summarised in cells of 4 x 4
  samples by star-clipped medians (:func:`zemosaic._sample_blocks.block_medians`);
* a low-order 2D polynomial (``plane``: order 1, ``surface``: order 3) is fitted to the cells as their **lower
  envelope**: a quantile regression at ``quantile`` (2 %), so that 98 % of the cells lie above it. A nebula only
  adds light, so however much of the mosaic it covers and however bright it is, the cells it lifts do not pull the
  surface up: only the darkest cells steer it;
* the surface minus its median over the cells is subtracted (the sky level stays), then per-channel offsets bring
  the sky level of R and B to green's: the sky comes out grey. The sky level of a channel is the median of the cells
  that are among the darkest in every channel (the joint 5 % darkest above the envelope).

How far the nebula protection goes: a plane cannot bend into a nebula, only tilt; and it tilts only if the darkest
2 % of the cells are themselves nebulosity whose faintest parts rise towards one side of the mosaic (a nebula that
fills the whole mosaic): that tilt is then removed as sky. A cubic ``surface`` can also bend into the gaps between
bright regions and follows the faint floor of a large nebula, so it keeps less of it (see ``README.md``).
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from zemosaic._pixels import finite_in_every_channel
from zemosaic._sample_blocks import SampleBlocks, block_medians
from zemosaic._stats import diff_noise_sigma
from zemosaic.background import check_images
from zemosaic.mosaic.sky_motion import MotionSky

__all__ = ["MOSAIC_BACKGROUND_MODELS", "MosaicSky", "SkySamples", "sample_mosaic_sky", "fit_mosaic_sky",
           "fit_mosaic_sky_to", "subtract_mosaic_sky"]

log = logging.getLogger(__name__)

MOSAIC_BACKGROUND_MODELS = ("none", "plane", "surface", "motion")
"""Values of the ``mosaic_background`` configuration key."""

_ORDERS = {"plane": 1, "surface": 3}
_MOTION_ORDER = 3            # the mosaic's difference to the frames' common sky (no nebula in it: a cubic is safe)
_MOTION_CLIP = 3.0           # cells this far (robust sigmas) from that fit are left out, iterated
_MAX_DECIMATED_SIDE = 512    # the decimated copy has at most this many samples on its long side
_CELL = 4                    # cell side in decimated samples
_QUANTILE = 0.02             # the surface is the 2 % quantile of the cells: their lower envelope
_SKY_SHARE = 0.05            # the sky level: median of the joint 5 % darkest cells above the envelope
_MIN_CELLS_PER_TERM = 8      # cells per fitted term before the order is lowered
_MIN_SKY_CELLS = 8
_IRLS_ITERATIONS = 200
_MIN_SAMPLE_FILL = 0.5       # a decimated sample counts when this share of its pixels is covered
_CHUNK_PIXELS = 4_000_000    # pixels per channel read at once by the decimation
_SUBTRACT_THREADS = 2        # row chunks of the subtraction in flight at once (numpy releases the GIL)
_GREEN = 1


@dataclass(frozen=True, eq=False)
class MosaicSky:
    """A fitted mosaic sky: a smooth surface per channel (median 0 over the cells) and neutralising offsets.

    :meth:`apply` returns ``mosaic - surface + offsets``; :meth:`model_rows` gives ``surface - offsets``, the amount
    subtracted (so the mosaic as assembled is the corrected one plus the model).

    Attributes
    ----------
    model : str
        ``"plane"``, ``"surface"`` or ``"motion"`` (:func:`fit_mosaic_sky_to`).
    order : int
        Polynomial order fitted (lowered from the model's when too few cells cover the mosaic; 0 with all
        coefficients 0 is the identity, see ``reason``).
    coeffs : numpy.ndarray
        ``(C, n_terms)`` coefficients in normalised coordinates: ``u`` (columns) and ``v`` (rows) map ``bounds``
        onto ``[-1, 1]`` (clipped outside); terms ``1, u, v, u^2, u v, v^2, u^3, u^2 v, u v^2, v^3``.
    bounds : tuple of float
        ``(row_min, row_max, col_min, col_max)``, full-grid pixels: the covered area the cells span.
    shape : tuple of int
        Shape of the mosaic, ``(H, W)`` or ``(H, W, C)``.
    offsets : numpy.ndarray
        ``(C,)`` added after the subtraction so the sky level of every channel equals green's (zeros for mono).
    sky_level : numpy.ndarray
        ``(C,)`` sky level per channel after the surface subtraction, before the offsets.
    quantile : float
        The quantile of the cells the surface was fitted at.
    step : int
        Decimation step of the copy the model was fitted on (also that of the ``BACKGROUND`` image).
    n_cells, n_sky_cells : int
        Cells sampled over the covered area, and the darkest ones the sky level is the median of.
    reason : str or None
        Why the model is simplified (lowered order, identity), None when it is not.
    """

    model: str
    order: int
    coeffs: np.ndarray
    bounds: tuple
    shape: tuple
    offsets: np.ndarray
    sky_level: np.ndarray
    quantile: float
    step: int
    n_cells: int
    n_sky_cells: int
    reason: str | None = None

    def model_rows(self, row0: int, row1: int) -> np.ndarray:
        """The subtracted model (``surface - offsets``) on rows ``row0:row1``, all columns, float32 ``(rows, W, C)``
        or ``(rows, W)``."""
        rows = np.arange(row0, row1, dtype=np.float64)
        return self._evaluate(rows, np.arange(self.shape[1], dtype=np.float64))

    def apply(self, chunk: np.ndarray, row0: int) -> np.ndarray:
        """Rows ``row0 : row0 + len(chunk)`` of the mosaic with the sky removed and neutralised (float32, NaN kept).

        Raises
        ------
        ValueError
            If the chunk does not fit the mosaic's shape.
        """
        chunk = np.asarray(chunk)
        if chunk.shape[1:] != tuple(self.shape[1:]) or not 0 <= row0 <= row0 + chunk.shape[0] <= self.shape[0]:
            raise ValueError(f"chunk of shape {chunk.shape} at row {row0} does not fit a mosaic of {self.shape}")
        return (chunk - self.model_rows(row0, row0 + chunk.shape[0])).astype(np.float32)

    def background_image(self, wcs: WCS | None = None, *, origin: tuple[int, int] = (0, 0),
                         shape: tuple[int, int] | None = None) -> tuple[np.ndarray, WCS | None, fits.Header]:
        """The subtracted model decimated by :attr:`step` for the ``BACKGROUND`` extension of ``mosaic.fits``.

        Sample ``(i, j)`` is the model at written pixel ``(i s + (s - 1) / 2, j s + (s - 1) / 2)`` (``s`` the step,
        0-based), i.e. the mean of the model over the block of ``s x s`` pixels it stands for; a bilinear upsampling
        gives the model back exactly for a plane. The mosaic as assembled is the written mosaic plus that model.
        The written mosaic is the window of ``shape`` (default: the whole grid) starting at grid pixel ``origin``
        ``(y0, x0)`` (the framing, ``crop``); ``wcs`` is the window's.

        Returns
        -------
        image : numpy.ndarray
            float32 ``(ceil(H / s), ceil(W / s), C)`` (or ``(h, w)`` for a mono mosaic), finite everywhere.
        wcs : astropy.wcs.WCS or None
            ``wcs`` sliced by the step (CD times ``s``, CRPIX moved to the same sky point), None without ``wcs``.
        header : astropy.io.fits.Header
            The cards that say what the image is (``BKGMODEL``, ``BKGORDER``, ``BKGQUANT``, ``BKGSTEP``,
            ``BKGSKY<c>``, ``BKGOFF<c>`` and comments).
        """
        s = self.step
        height, width = (self.shape if shape is None else shape)[:2]
        rows = origin[0] + np.arange(-(-height // s), dtype=np.float64) * s + (s - 1) / 2.0
        cols = origin[1] + np.arange(-(-width // s), dtype=np.float64) * s + (s - 1) / 2.0
        image = self._evaluate(rows, cols)
        small_wcs = None if wcs is None else _decimated_wcs(wcs, s)
        header = fits.Header()
        header["BKGMODEL"] = (self.model, "sky model subtracted in Phase 5.5")
        header["BKGORDER"] = (self.order, "polynomial order fitted")
        header["BKGQUANT"] = (self.quantile, "fitted as this quantile of the cells")
        header["BKGSTEP"] = (s, "1 pixel here = STEP x STEP mosaic pixels")
        header["BKGFULLH"] = (int(height), "mosaic rows")
        header["BKGFULLW"] = (int(width), "mosaic columns")
        for c, (level, off) in enumerate(zip(self.sky_level, self.offsets, strict=True), start=1):
            header[f"BKGSKY{c}"] = (round(float(level), 4), f"sky level of channel {c}, ADU")
            header[f"BKGOFF{c}"] = (round(float(off), 4), f"offset added to channel {c}, ADU")
        header["COMMENT"] = "Mosaic as assembled = primary + this model, upsampled bilinearly"
        header["COMMENT"] = "(exact for a plane)."
        header["COMMENT"] = "Pixel (i, j) = model at mosaic pixel (i*STEP+(STEP-1)/2,"
        header["COMMENT"] = "j*STEP+(STEP-1)/2), 0-based."
        return image, small_wcs, header

    def summary(self) -> str:
        """One line for the log: order, quantile, cells, sky level, offsets, reason."""
        return (f"order {self.order} fitted as the {self.quantile:g} quantile of {self.n_cells} cells, sky level "
                f"{np.round(self.sky_level, 2).tolist()} from the {self.n_sky_cells} darkest, neutral offsets "
                f"{np.round(self.offsets, 2).tolist()}" + (f" ({self.reason})" if self.reason else ""))

    def as_dict(self) -> dict:
        """JSON-able record for the run report: model, order, per-channel coefficients, surface range, cells."""
        surface = self._evaluate(np.linspace(self.bounds[0], self.bounds[1], 17),
                                 np.linspace(self.bounds[2], self.bounds[3], 17)) + self.offsets.astype(np.float32)
        ptp = np.ptp(surface.reshape(-1, len(self.offsets)), axis=0)
        return {"model": self.model, "order": self.order, "quantile": self.quantile,
                "coeffs": np.round(self.coeffs, 4).tolist(), "bounds": [round(float(b), 1) for b in self.bounds],
                "surface_ptp": np.round(ptp, 3).tolist(), "neutral_offsets": np.round(self.offsets, 3).tolist(),
                "sky_level": np.round(self.sky_level, 3).tolist(), "decimation_step": self.step,
                "cells": self.n_cells, "sky_cells": self.n_sky_cells, "reason": self.reason}

    def _evaluate(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """``surface - offsets`` on the grid ``rows x cols`` (full-grid pixels), float32."""
        u = _normalise(cols, self.bounds[2], self.bounds[3])
        v = _normalise(rows, self.bounds[0], self.bounds[1])
        out = np.zeros((rows.size, cols.size, len(self.offsets)), np.float32)
        for k, (i, j) in enumerate(_terms(self.order)):
            term = (v[:, None] ** j * u[None, :] ** i).astype(np.float32)
            out += term[..., None] * self.coeffs[:, k].astype(np.float32)
        out -= self.offsets.astype(np.float32)
        return out if len(self.shape) == 3 else out[..., 0]


@dataclass(frozen=True, eq=False)
class SkySamples:
    """What every sky fit reads of a mosaic (:func:`sample_mosaic_sky`): the decimation ``step``, the decimated
    mosaic ``dec`` (block means, NaN where not usable), its usable samples ``ok``, and the star-clipped cell medians
    ``blocks`` (:func:`zemosaic._sample_blocks.block_medians`; None when no sample is usable), for a mosaic of
    ``shape``."""

    shape: tuple
    step: int
    dec: np.ndarray
    ok: np.ndarray
    blocks: SampleBlocks | None


def sample_mosaic_sky(data: np.ndarray, weight: np.ndarray | None = None) -> SkySamples:
    """Read a mosaic once for its sky fits (:class:`SkySamples`): ``data`` ``(H, W)`` or ``(H, W, C)`` (a memmap is
    read in row chunks), only pixels with ``weight > 0`` (when given) and finite in every channel sampled.

    Raises
    ------
    ValueError
        On a bad shape or a weight of another shape.
    """
    shape = check_images(data, None, weight)
    step = max(1, -(-max(shape[:2]) // _MAX_DECIMATED_SIDE))
    dec, ok = _decimate(data, weight, step)
    rows = np.arange(dec.shape[0], dtype=np.float64) * step + (step - 1) / 2.0
    cols = np.arange(dec.shape[1], dtype=np.float64) * step + (step - 1) / 2.0
    return SkySamples(tuple(shape), step, dec, ok, block_medians([dec], ok, rows, cols, _CELL) if ok.any() else None)


def fit_mosaic_sky(data: np.ndarray, weight: np.ndarray | None = None, *, model: str = "plane",
                   neutralise: bool = True, quantile: float = _QUANTILE,
                   samples: SkySamples | None = None) -> MosaicSky:
    """Fit the smooth sky left in a mosaic, per channel, and the offsets that make it grey.

    Parameters
    ----------
    data : numpy.ndarray
        ``(H, W)`` or ``(H, W, C)`` mosaic, NaN where nothing contributes; a memmap is read in row chunks into a
        decimated copy (block means, at most 512 samples on the long side).
    weight : numpy.ndarray, optional
        ``(H, W)`` mosaic weight; only pixels with weight > 0 (and finite in every channel) are sampled.
    model : str
        ``"plane"`` (order 1: keeps a large nebula) or ``"surface"`` (order 3: follows curved gradients, bends
        into the faint floor of a large nebula).
    neutralise : bool
        Compute the per-channel offsets that bring the R and B sky levels to green's (3-channel mosaics only).
    quantile : float
        The quantile of the cells the surface is fitted at, in (0, 0.5]: 0.02 is the lower envelope, 0.5 a
        median fit (which a nebula covering much of the mosaic lifts).
    samples : SkySamples, optional
        :func:`sample_mosaic_sky` of ``data`` and ``weight`` when already taken (the mosaic is then not read).

    Returns
    -------
    MosaicSky
        The identity (order 0, coefficients 0, with a ``reason``) when too few cells cover the mosaic.

    Raises
    ------
    ValueError
        On an unknown ``model``, a quantile outside (0, 0.5], a bad shape, a weight of another shape, or
        ``samples`` of a mosaic of another shape.
    """
    if model not in _ORDERS:
        raise ValueError(f"model must be one of {', '.join(_ORDERS)}, got {model!r}")
    if not 0.0 < quantile <= 0.5:
        raise ValueError(f"quantile must be in (0, 0.5], got {quantile!r}")
    samples = _checked_samples(data, weight, samples)
    shape, step, dec, ok, blocks = samples.shape, samples.step, samples.dec, samples.ok, samples.blocks
    n_ch = 1 if len(shape) == 2 else shape[2]
    fit_order = _affordable_order(0 if blocks is None else blocks.rows.size, _ORDERS[model])
    if blocks is None or fit_order is None:
        n = 0 if blocks is None else blocks.rows.size
        why = f"only {n} sky cells cover the mosaic: too few for any fitted surface"
        log.debug("mosaic sky (%s): %s; nothing subtracted", model, why)
        return MosaicSky(model=model, order=0, coeffs=np.zeros((n_ch, 1)), bounds=(0.0, shape[0] - 1.0, 0.0,
                         shape[1] - 1.0), shape=shape, offsets=np.zeros(n_ch), sky_level=np.full(n_ch, np.nan),
                         quantile=quantile, step=step, n_cells=n, n_sky_cells=0, reason=why)
    reason = None if fit_order == _ORDERS[model] else (
        f"order lowered from {_ORDERS[model]} to {fit_order}: {blocks.rows.size} sky cells")
    z = blocks.values[0].astype(np.float64)                              # (n, C) star-clipped cell medians
    bounds = _covered_bounds(ok, step, shape)
    design = _design(_normalise(blocks.cols, bounds[2], bounds[3]), _normalise(blocks.rows, bounds[0], bounds[1]),
                     fit_order)
    floor = _cell_noise(dec, ok) * 0.1 + 1e-6                           # IRLS smoothing, far below the noise
    coeffs = np.stack([_quantile_fit(design, z[:, c], quantile, floor[c]) for c in range(n_ch)])  # (C, n_terms)
    envelope = design @ coeffs.T                                          # (n, C)
    centre = np.median(envelope, axis=0)
    coeffs[:, 0] -= centre                                                # median 0 over the cells: level kept
    above = z - envelope
    sky = _darkest_cells(above)
    level = centre + np.median(above[sky], axis=0)
    offsets = np.zeros(n_ch)
    if neutralise and n_ch == 3:
        offsets = level[_GREEN] - level
    out = MosaicSky(model=model, order=fit_order, coeffs=coeffs, bounds=bounds, shape=shape, offsets=offsets,
                    sky_level=level, quantile=quantile, step=step, n_cells=int(z.shape[0]),
                    n_sky_cells=int(sky.sum()), reason=reason)
    log.debug("mosaic sky (%s): %s", model, out.summary())
    return out


def fit_mosaic_sky_to(data: np.ndarray, weight: np.ndarray | None, reference: MotionSky, *,
                      order: int = _MOTION_ORDER, neutralise: bool = True,
                      samples: SkySamples | None = None) -> MosaicSky:
    """Fit the smooth difference between a mosaic and a reference sky that holds the nebula, per channel.

    ``reference`` is the frames' common sky of a joint fit (:class:`zemosaic.mosaic.sky_motion.MotionSky`: the
    nebula, without the light pollution, up to a constant per channel). The mosaic is reduced as in
    :func:`fit_mosaic_sky` (block means, then star-clipped cell medians), and at every cell
    ``mosaic = gain * reference + P(x, y)`` is fitted with ``P`` a polynomial of ``order`` (robust least squares:
    cells far from the fit are clipped, iterated). ``P`` minus its median over the cells is what is subtracted
    (the sky level stays); the neutralising offsets are then taken as in :func:`fit_mosaic_sky`, on the darkest
    cells of the corrected mosaic. Because the nebula is in the reference, ``P`` does not follow it whatever its
    order: the order only bounds how curved the light pollution left in the mosaic may be. ``samples``: as in
    :func:`fit_mosaic_sky`.

    Returns
    -------
    MosaicSky
        ``model="motion"``, ``quantile=0.5`` (a least-squares fit); the identity with a ``reason`` when too few
        cells are covered by both.

    Raises
    ------
    ValueError
        On a bad shape or order, or ``samples`` of a mosaic of another shape.
    """
    if not 0 <= order <= 3:
        raise ValueError(f"order must be 0-3, got {order}")
    samples = _checked_samples(data, weight, samples)
    shape, step, ok, blocks = samples.shape, samples.step, samples.ok, samples.blocks
    n_ch = 1 if len(shape) == 2 else shape[2]
    ref = None if blocks is None else reference.sky_at(blocks.cols, blocks.rows)
    both = None if ref is None else np.isfinite(ref).all(axis=1)
    fit_order = _affordable_order(0 if both is None else int(both.sum()), order)
    bounds = (0.0, shape[0] - 1.0, 0.0, shape[1] - 1.0) if not ok.any() else _covered_bounds(ok, step, shape)
    if blocks is None or ref is None or both is None or fit_order is None:
        n = 0 if both is None else int(both.sum())
        return MosaicSky(model="motion", order=0, coeffs=np.zeros((n_ch, 1)), bounds=bounds, shape=shape,
                         offsets=np.zeros(n_ch), sky_level=np.full(n_ch, np.nan), quantile=0.5, step=step,
                         n_cells=n, n_sky_cells=0, reason=f"only {n} cells covered by the mosaic and the frames' sky")
    z = blocks.values[0].astype(np.float64)[both]
    design = _design(_normalise(blocks.cols[both], bounds[2], bounds[3]),
                     _normalise(blocks.rows[both], bounds[0], bounds[1]), fit_order)
    coeffs = np.stack([_fit_to_reference(design, z[:, c], ref[both, c]) for c in range(n_ch)])
    surface = design @ coeffs.T
    centre = np.median(surface, axis=0)
    coeffs[:, 0] -= centre
    corrected = z - surface + centre
    sky = _darkest_cells(corrected - np.median(corrected, axis=0))
    level = np.median(corrected[sky], axis=0)
    offsets = level[_GREEN] - level if neutralise and n_ch == 3 else np.zeros(n_ch)
    reason = None if fit_order == order else f"order lowered from {order} to {fit_order}: {int(both.sum())} cells"
    out = MosaicSky(model="motion", order=fit_order, coeffs=coeffs, bounds=bounds, shape=shape, offsets=offsets,
                    sky_level=level, quantile=0.5, step=step, n_cells=int(both.sum()), n_sky_cells=int(sky.sum()),
                    reason=reason)
    log.debug("mosaic sky (motion): %s", out.summary())
    return out


def subtract_mosaic_sky(data: np.ndarray, sky: MosaicSky, weight: np.ndarray | None = None, *,
                        chunk_rows: int = 256) -> None:
    """Remove ``sky`` from ``data`` in place, ``chunk_rows`` rows at a time (a memmap stays a memmap).

    Pixels with weight 0 (when ``weight`` is given) and NaN pixels are left as they are.

    Raises
    ------
    ValueError
        If ``data`` is not the shape the model was fitted on, or ``chunk_rows`` < 1.
    """
    if tuple(data.shape) != tuple(sky.shape):
        raise ValueError(f"mosaic shape {tuple(data.shape)} differs from the sky model's {sky.shape}")
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
    def subtract(row0: int) -> None:  # one chunk's rows: chunks are disjoint, two run at once
        chunk = np.asarray(data[row0:row0 + chunk_rows])
        out = sky.apply(chunk, row0)
        if weight is not None:
            empty = np.asarray(weight[row0:row0 + chunk_rows]) <= 0
            out[empty] = chunk[empty]
        data[row0:row0 + chunk_rows] = out

    with ThreadPoolExecutor(max_workers=_SUBTRACT_THREADS, thread_name_prefix="zemosaic-sky") as pool:
        for _ in pool.map(subtract, range(0, data.shape[0], chunk_rows)):
            pass


# ---------------------------------------------------------------------------------------------------------------
# private helpers

def _checked_samples(data: np.ndarray, weight, samples: SkySamples | None) -> SkySamples:
    """``samples`` when they are of a mosaic of ``data``'s shape (ValueError otherwise), or the mosaic read now
    when None."""
    if samples is None:
        return sample_mosaic_sky(data, weight)
    if tuple(data.shape) != samples.shape:
        raise ValueError(f"sky samples of a {samples.shape} mosaic given for one of {tuple(data.shape)}")
    return samples


def _decimate(data: np.ndarray, weight: np.ndarray | None, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Block means of the covered, finite pixels (``(h, w, C)`` float32) and whether each block counts (at least
    half of its pixels covered), read ``step`` rows at a time in chunks of about 4 Mpx."""
    height, width = data.shape[:2]
    n_ch = 1 if data.ndim == 2 else data.shape[2]
    h, w = -(-height // step), -(-width // step)
    sums = np.zeros((h, w, n_ch), np.float64)
    counts = np.zeros((h, w), np.int64)
    capacity = np.zeros((h, w), np.int64)
    band = step * max(1, _CHUNK_PIXELS // (step * width))
    for row0 in range(0, height, band):
        chunk = np.asarray(data[row0:row0 + band], dtype=np.float32)
        chunk = chunk[..., None] if chunk.ndim == 2 else chunk
        good = finite_in_every_channel(chunk)
        if weight is not None:
            good &= np.asarray(weight[row0:row0 + band]) > 0
        rows = chunk.shape[0]
        pad = ((0, -(-rows // step) * step - rows), (0, w * step - width))
        values = np.pad(np.where(good[..., None], chunk, 0.0), pad + ((0, 0),))
        mask = np.pad(good, pad)
        inside = np.pad(np.ones(good.shape, bool), pad)
        r0, nb = row0 // step, values.shape[0] // step
        sums[r0:r0 + nb] = values.reshape(nb, step, w, step, n_ch).sum(axis=(1, 3), dtype=np.float64)
        counts[r0:r0 + nb] = mask.reshape(nb, step, w, step).sum(axis=(1, 3))
        capacity[r0:r0 + nb] = inside.reshape(nb, step, w, step).sum(axis=(1, 3))
    ok = counts >= np.maximum(1, _MIN_SAMPLE_FILL * capacity)
    mean = np.full((h, w, n_ch), np.nan, np.float32)
    mean[ok] = (sums[ok] / counts[ok][:, None]).astype(np.float32)
    return mean, ok


def _decimated_wcs(wcs: WCS, step: int) -> WCS:
    """``wcs`` for the grid whose pixel ``i`` (0-based) is full-grid pixel ``i * step + (step - 1) / 2``: the pixel
    scale times ``step`` (CD or CDELT, whichever the WCS uses), CRPIX moved to the same sky point."""
    out = wcs.celestial.deepcopy()
    if out.wcs.has_cd():
        out.wcs.cd = out.wcs.cd * step
    else:
        out.wcs.cdelt = out.wcs.cdelt * step
    out.wcs.crpix = (out.wcs.crpix - 0.5) / step + 0.5
    out.wcs.set()
    return out


def _covered_bounds(ok: np.ndarray, step: int, shape: tuple) -> tuple[float, float, float, float]:
    """Full-grid pixel box of the decimated samples that count."""
    rows, cols = np.nonzero(ok)
    return (float(rows.min() * step), float(min(shape[0] - 1, rows.max() * step + step - 1)),
            float(cols.min() * step), float(min(shape[1] - 1, cols.max() * step + step - 1)))


def _cell_noise(dec: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """(C,) noise sigma of a cell median: the samples' neighbour-difference noise over sqrt(samples per cell)."""
    pair = ok[:, 1:] & ok[:, :-1]
    if pair.sum() < 16:
        return np.zeros(dec.shape[2])
    diffs = (dec[:, 1:] - dec[:, :-1])[pair].astype(np.float64)
    return 1.2533 * np.nan_to_num(diff_noise_sigma(diffs, axis=0)) / _CELL


def _quantile_fit(design: np.ndarray, z: np.ndarray, quantile: float, floor: float) -> np.ndarray:
    """Coefficients of the ``quantile`` regression of ``z`` on ``design`` by iteratively reweighted least squares
    (weights ``q`` or ``1 - q`` over ``max(|residual|, floor)``), started from the least-squares fit."""
    coef = np.linalg.lstsq(design, z, rcond=None)[0]
    tol = max(1e-4 * float(np.std(z)), 1e-9)
    for _ in range(_IRLS_ITERATIONS):
        r = z - design @ coef
        w = np.sqrt(np.where(r > 0, quantile, 1.0 - quantile) / np.maximum(np.abs(r), floor))
        new = np.linalg.lstsq(design * w[:, None], z * w, rcond=None)[0]
        moved = float(np.max(np.abs(design @ (new - coef))))
        coef = new
        if moved < tol:
            break
    return coef


def _fit_to_reference(design: np.ndarray, z: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Polynomial coefficients of ``z = gain * ref + design @ coef``, clipped least squares (the gain is fitted
    and dropped: a gain error on the nebula must not bend the polynomial)."""
    full = np.column_stack([ref - np.median(ref), design])
    keep = np.ones(z.size, bool)
    coef = np.zeros(full.shape[1])
    for _ in range(5):
        coef = np.linalg.lstsq(full[keep], z[keep], rcond=None)[0]
        resid = z - full @ coef
        sigma = 1.4826 * float(np.median(np.abs(resid[keep] - np.median(resid[keep])))) + 1e-9
        new = np.abs(resid - np.median(resid[keep])) <= _MOTION_CLIP * sigma
        if np.array_equal(new, keep) or new.sum() < full.shape[1] * _MIN_CELLS_PER_TERM:
            break
        keep = new
    return coef[1:]


def _darkest_cells(above: np.ndarray) -> np.ndarray:
    """The cells among the darkest in every channel (bool ``(n,)``): lowest ``_SKY_SHARE`` of the worst per-channel
    rank of their height above the envelope (at least ``_MIN_SKY_CELLS``)."""
    n = above.shape[0]
    ranks = np.argsort(np.argsort(above, axis=0), axis=0)                 # (n, C), 0 = darkest
    worst = ranks.max(axis=1)
    k = min(n, max(_MIN_SKY_CELLS, int(round(_SKY_SHARE * n))))
    keep = np.zeros(n, bool)
    keep[np.argsort(worst, kind="stable")[:k]] = True
    return keep


def _affordable_order(n_cells: int, order: int) -> int | None:
    """Highest order <= ``order`` that ``n_cells`` cells support (None: not even a constant)."""
    for fit in range(order, -1, -1):
        if n_cells >= _MIN_CELLS_PER_TERM * len(_terms(fit)):
            return fit
    return None


def _terms(order: int) -> list[tuple[int, int]]:
    """Exponents (i of u, j of v), by total degree then increasing j (the order of BackgroundMatch's terms)."""
    return [(d - j, j) for d in range(order + 1) for j in range(d + 1)]


def _design(u: np.ndarray, v: np.ndarray, order: int) -> np.ndarray:
    return np.stack([u ** i * v ** j for i, j in _terms(order)], axis=1)


def _normalise(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Map ``[lo, hi]`` onto ``[-1, 1]`` and clip outside (no extrapolation beyond the covered area)."""
    half = max(0.5 * (hi - lo), 0.5)
    return np.clip((np.asarray(values, np.float64) - 0.5 * (lo + hi)) / half, -1.0, 1.0)
