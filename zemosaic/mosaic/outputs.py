"""The mosaic's files (Phase 6): ``mosaic.fits`` (data, WCS, ``WEIGHT`` extension, and ``BACKGROUND`` when a sky
model was subtracted), ``mosaic_preview.png`` and the 16-bit exports (``mosaic.tif``, ``mosaic.png``), each written
atomically: :func:`write_mosaic_outputs`.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from zemosaic.io import fits as fits_io
from zemosaic.mosaic import exports as fits_exports
from zemosaic.mosaic import preview
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
    exports: tuple[Path, ...] = ()

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file written."""
        return tuple(p for p in (self.fits, self.preview, *self.exports) if p is not None)


def write_mosaic_outputs(result: MosaicResult, out_dir: str | os.PathLike, *, write_preview: bool = True,
                         header_extra: Mapping | fits.Header | None = None, output_scale: str = "adu",
                         fill_value: float = float("nan"), export_formats: Sequence[str] = (),
                         export_stretch: bool = False,
                         background: tuple[np.ndarray, WCS | None, fits.Header] | None = None) -> MosaicOutputs:
    """Write ``OUT/mosaic.fits`` (float32 ``3 x H x W`` or ``H x W`` + WCS, extension ``WEIGHT``, then
    ``BACKGROUND`` when given), ``OUT/mosaic_preview.png`` (stretched, transparent where the weight is 0) and the
    16-bit exports, each atomically.

    Parameters
    ----------
    result : MosaicResult
        Not modified: the scale and fill value are applied to the written copy only.
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
        ``'tiff16'`` and/or ``'png16'``: :func:`zemosaic.mosaic.exports.write_exports` (linear, or stretched with
        ``export_stretch``).
    background : tuple, optional
        ``(image, wcs, header)`` of the sky model subtracted in Phase 5.5
        (:meth:`zemosaic.mosaic.sky.MosaicSky.background_image`): written as the image extension ``BACKGROUND``
        (float32, laid out as the primary, decimated, with its own WCS and the header's cards), scaled as the
        primary is by ``output_scale``.

    Returns
    -------
    MosaicOutputs

    Raises
    ------
    ValueError
        An unknown ``output_scale`` or export format.
    """
    if output_scale not in ("adu", "unit"):
        raise ValueError(f"output_scale must be 'adu' or 'unit', got {output_scale!r}")
    out_dir = Path(out_dir)
    covered = result.weight > 0
    written, scale = _written_copy(result.data, covered, output_scale, float(fill_value))
    header = fits.Header()
    header["NTILES"] = (int(result.n_tiles), "master tiles co-added")
    header["BUNIT"] = ("ADU", "weighted mean of the master tiles")
    _merge_cards(header, header_extra)
    if output_scale == "unit":
        header["BUNIT"] = ("", "dimensionless: ADU / ADUSCALE")
    header["OUTSCALE"] = (output_scale, "adu (as co-added) or unit (peak 1)")
    header["ADUSCALE"] = (scale, "ADU = pixel value * ADUSCALE")
    header["FILLVAL"] = (repr(float(fill_value)), "value of the uncovered pixels (WEIGHT = 0)")
    if background is not None:
        header["BKGMODEL"] = (str(background[2].get("BKGMODEL", "")), "sky model subtracted, see BACKGROUND")
    fits_path = _write_fits(out_dir / "mosaic.fits", written, result, header,
                            None if background is None else _scaled_background(background, scale))
    exports = tuple(fits_exports.write_exports(out_dir, written, covered, list(export_formats),
                                               stretch=export_stretch))
    del written
    preview_path = None
    if write_preview:
        preview_path = preview.write_preview_png(out_dir / "mosaic_preview.png", result.data,
                                                 alpha=covered.astype(np.float32))
    log.info("mosaic written: %s%s", fits_path, "".join(f", {p}" for p in (preview_path, *exports) if p))
    return MosaicOutputs(fits=fits_path, preview=preview_path, exports=exports)


def _write_fits(path: Path, written: np.ndarray, result: MosaicResult, header: fits.Header,
                background: fits.ImageHDU | None) -> Path:
    """``mosaic.fits`` with ``WEIGHT``, and ``BACKGROUND`` after it when given, in one atomic write."""
    return fits_io.write_fits_image(path, written, wcs=result.grid.wcs, header_extra=header,
                                    extensions={"WEIGHT": result.weight},
                                    extra_hdus=() if background is None else (background,))


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
