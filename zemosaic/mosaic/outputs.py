"""The mosaic's files (Phase 6), each written atomically: :func:`write_mosaic_outputs`.

* ``mosaic.fits``, the science product: data in ADU (or unit scale), NaN where nothing was covered, the WCS, the
  extensions ``WEIGHT``, ``BACKGROUND`` (when a sky model was subtracted) and ``MASK`` (uint8, 1 where the pixel holds
  no data, the primary's shape: what ``CCDData.read`` takes as its mask by default).
* ``mosaic_preview.png``, and the editor exports (:mod:`zemosaic.mosaic.exports`).
* The tool presets (:mod:`zemosaic.io.presets`): files a named tool takes as they are.

Every product is framed alike (``crop``, :mod:`zemosaic.mosaic.framing`), its WCS following the window.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from zemosaic.io import fits as fits_io
from zemosaic.io import presets as tool_presets
from zemosaic.mosaic import exports as fits_exports
from zemosaic.mosaic import preview
from zemosaic.mosaic.coadd import MosaicResult
from zemosaic.mosaic.framing import Framing, crop_wcs, frame_mosaic

__all__ = [
    "MosaicOutputs",
    "write_mosaic_outputs",
]

log = logging.getLogger(__name__)

BackgroundSource = Callable[..., tuple[np.ndarray, WCS | None, fits.Header]] | tuple[np.ndarray, WCS | None,
                                                                                     fits.Header]


@dataclass(frozen=True)
class MosaicOutputs:
    """Files written by :func:`write_mosaic_outputs`, and the window of the assembled grid they hold."""

    fits: Path
    framing: Framing
    preview: Path | None = None
    exports: tuple[Path, ...] = ()
    presets: dict[str, tuple[Path, ...]] | None = None

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file written."""
        preset_paths = tuple(p for paths in (self.presets or {}).values() for p in paths)
        return tuple(p for p in (self.fits, self.preview, *self.exports, *preset_paths) if p is not None)


def write_mosaic_outputs(result: MosaicResult, out_dir: str | os.PathLike, *, write_preview: bool = True,
                         header_extra: Mapping | fits.Header | None = None, output_scale: str = "adu",
                         fill_value: float = float("nan"), export_formats: Sequence[str] = (),
                         export_stretch: bool = False,
                         background: BackgroundSource | None = None,
                         presets: Sequence[str] = (), crop: str = "none",
                         alpha_threshold: float = 1e-3) -> MosaicOutputs:
    """Write ``OUT/mosaic.fits`` (float32 ``3 x H x W`` or ``H x W`` + WCS, extension ``WEIGHT``, then
    ``BACKGROUND`` when given, then ``MASK``), ``OUT/mosaic_preview.png`` (stretched, transparent where the weight
    is 0), the exports and the tool presets, each atomically, all framed by ``crop``.

    Parameters
    ----------
    result : MosaicResult
        Not modified: the scale, fill value and framing are applied to the written copies only.
    out_dir : str or os.PathLike
        Output folder (created if missing).
    write_preview : bool
        Also write the PNG preview.
    header_extra : Mapping or astropy.io.fits.Header, optional
        Extra primary-header keywords (``key -> value`` or ``key -> (value, comment)``; a Header keeps several
        ``HISTORY`` cards).
    output_scale : {'adu', 'unit'}
        ``'adu'``: the co-added values as they are (``BUNIT='ADU'``); ``'unit'``: divided by the brightest covered
        value (``ADUSCALE``, so ``ADU = value * ADUSCALE``; ``BUNIT=''``), for tools that expect float data in
        [0, 1].
    fill_value : float
        Written where the weight is 0 or the value is not finite (NaN by default); ``WEIGHT`` stays 0 there.
    export_formats : sequence of str
        ``'tiff16'``, ``'png16'`` and/or ``'tiff32'``: :func:`zemosaic.mosaic.exports.write_exports` (linear, or
        stretched with ``export_stretch``), with an alpha channel from ``WEIGHT``.
    background : callable or tuple, optional
        The sky model subtracted in Phase 5.5: :meth:`zemosaic.mosaic.sky.MosaicSky.background_image` (called with
        the written window's WCS, ``origin`` and ``shape``), or its ``(image, wcs, header)`` for the whole grid
        (``crop='none'`` only): written as the image extension ``BACKGROUND`` (float32, laid out as the primary,
        decimated, with its own WCS and the header's cards), scaled as the primary is by ``output_scale``.
    presets : sequence of str
        Tool presets (:data:`zemosaic.io.presets.PRESETS`) written beside ``mosaic.fits``.
    crop : {'none', 'covered', 'rectangle'}
        Framing of every product (:func:`zemosaic.mosaic.framing.frame_mosaic`); ``CROPMODE``, ``CROPX0`` and
        ``CROPY0`` say where the window lies in the assembled grid.
    alpha_threshold : float
        ``crop='rectangle'``: the least weight of a pixel inside, relative to the median covered weight.

    Returns
    -------
    MosaicOutputs

    Raises
    ------
    ValueError
        An unknown ``output_scale``, export format, preset or crop mode.
    """
    if output_scale not in ("adu", "unit"):
        raise ValueError(f"output_scale must be 'adu' or 'unit', got {output_scale!r}")
    tool_presets.check_presets(presets)
    out_dir = Path(out_dir)
    framing = frame_mosaic(result.data, result.weight, crop, alpha_threshold=alpha_threshold)
    rows, cols = framing.window
    data, weight = result.data[rows, cols], result.weight[rows, cols]
    wcs = crop_wcs(result.grid.wcs, framing.y0, framing.x0, framing.shape)
    covered = weight > 0
    if callable(background):
        background = background(wcs, origin=(framing.y0, framing.x0), shape=framing.shape)
    header = _primary_header(result, header_extra, output_scale, fill_value, background, framing)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="zemosaic-preview") as pool:  # beside the FITS
        preview_job = pool.submit(preview.write_preview_png, out_dir / "mosaic_preview.png", data,
                                  alpha=covered.astype(np.float32)) if write_preview else None
        written, scale = _written_copy(data, covered, output_scale, float(fill_value))
        header["ADUSCALE"] = (scale, "ADU = pixel value * ADUSCALE")
        fits_path = _write_fits(out_dir / "mosaic.fits", written, wcs, weight, header,
                                None if background is None else _scaled_background(background, scale))
        del written
        exports = tuple(fits_exports.write_exports(out_dir, data, covered, list(export_formats),
                                                   stretch=export_stretch, alpha=covered.astype(np.float32)))
        preset_files = {name: tuple(tool_presets.write_preset(name, out_dir, data, weight, wcs, header))
                        for name in dict.fromkeys(presets)}
        preview_path = preview_job.result() if preview_job is not None else None
    log.info("mosaic written (crop=%s, %d x %d px): %s%s", crop, framing.shape[1], framing.shape[0], fits_path,
             "".join(f", {p}" for p in (preview_path, *exports) if p))
    return MosaicOutputs(fits=fits_path, preview=preview_path, exports=exports, presets=preset_files,
                         framing=framing)


def _primary_header(result: MosaicResult, header_extra, output_scale: str, fill_value: float, background,
                    framing: Framing) -> fits.Header:
    header = fits.Header()
    header["NTILES"] = (int(result.n_tiles), "master tiles co-added")
    header["BUNIT"] = ("ADU", "weighted mean of the master tiles")
    _merge_cards(header, header_extra)
    if output_scale == "unit":
        header["BUNIT"] = ("", "dimensionless: ADU / ADUSCALE")
    header["OUTSCALE"] = (output_scale, "adu (as co-added) or unit (peak 1)")
    header["FILLVAL"] = (repr(float(fill_value)), "value of the uncovered pixels (WEIGHT = 0)")
    header["CROPMODE"] = (framing.mode, "framing: none, covered or rectangle")
    header["CROPX0"] = (framing.x0, "window x0 in the assembled grid")
    header["CROPY0"] = (framing.y0, "window y0 in the assembled grid")
    if background is not None:
        header["BKGMODEL"] = (str(background[2].get("BKGMODEL", "")), "sky model subtracted, see BACKGROUND")
    return header


def _write_fits(path: Path, written: np.ndarray, wcs: WCS, weight: np.ndarray, header: fits.Header,
                background: fits.ImageHDU | None) -> Path:
    """``mosaic.fits`` with ``WEIGHT``, ``BACKGROUND`` when given and ``MASK``, in one atomic write."""
    empty = ~(weight > 0)
    mask = np.broadcast_to(empty, (written.shape[2], *empty.shape)) if written.ndim == 3 else empty
    mask_hdu = fits.ImageHDU(data=np.ascontiguousarray(mask, dtype=np.uint8), name="MASK")
    mask_hdu.header["COMMENT"] = "1 where the pixel holds no data (WEIGHT = 0), 0 elsewhere; the primary's shape"
    extra = (mask_hdu,) if background is None else (background, mask_hdu)
    return fits_io.write_fits_image(path, written, wcs=wcs, header_extra=header, extensions={"WEIGHT": weight},
                                    extra_hdus=extra, channel_axis=True)


def _scaled_background(background: tuple[np.ndarray, WCS | None, fits.Header], scale: float) -> fits.ImageHDU:
    """The ``BACKGROUND`` image HDU: the model in the primary's units and layout (``C x h x w``), its decimated WCS
    written with a CD matrix as the primary's, and the model's cards."""
    image, wcs, cards = background
    data = np.asarray(image, np.float32) / np.float32(scale)
    data = np.ascontiguousarray(np.moveaxis(data, -1, 0) if data.ndim == 3 else data, dtype=np.float32)
    header = fits.Header()
    if wcs is not None:
        for card in wcs.to_header().cards:
            if not card.keyword.startswith(("PC", "CDELT", "CD")):
                header.append(card)
        matrix = wcs.pixel_scale_matrix
        for i in range(2):
            for j in range(2):
                header[f"CD{i + 1}_{j + 1}"] = float(matrix[i, j])
    header.extend(cards, end=True)
    if scale != 1.0:
        header["ADUSCALE"] = (scale, "ADU = pixel value * ADUSCALE (as the primary)")
    return fits.ImageHDU(data=data, header=header, name="BACKGROUND")


def _written_copy(data: np.ndarray, covered: np.ndarray, output_scale: str, fill_value: float
                  ) -> tuple[np.ndarray, float]:
    """The values written (one float32 copy, laid out ``3 x H x W`` so that the writer copies nothing more, returned
    as its ``H x W x 3`` view) and the ADU scale (1 for 'adu')."""
    planes = np.empty((1 if data.ndim == 2 else data.shape[2], *data.shape[:2]), dtype=np.float32)
    for c in range(planes.shape[0]):
        planes[c] = data if data.ndim == 2 else data[..., c]
        planes[c][~covered] = np.nan
    scale = 1.0
    if output_scale == "unit" and covered.any():
        peak = float(np.nanmax(planes))
        scale = peak if np.isfinite(peak) and peak > 0 else 1.0
        planes /= np.float32(scale)
    for c in range(planes.shape[0]):
        planes[c][~np.isfinite(planes[c])] = fill_value
    return (planes[0] if data.ndim == 2 else np.moveaxis(planes, 0, -1)), scale


def _merge_cards(header: fits.Header, extra: Mapping | fits.Header | None) -> None:
    """Add ``extra`` to ``header``: keywords replace, ``HISTORY`` / ``COMMENT`` cards are appended."""
    if extra is None:
        return
    items = ((c.keyword, (c.value, c.comment)) for c in extra.cards) if isinstance(extra, fits.Header) \
        else extra.items()
    for key, value in items:
        if key in ("HISTORY", "COMMENT"):
            header.append((key, value[0] if isinstance(value, tuple) else value), end=True)
        else:
            header[key] = value
