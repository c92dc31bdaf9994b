"""Tool presets: the mosaic written as a named tool takes it, with no setting to remember (``--preset NAME``).

========== ===================================== ================================================================
preset     files                                 what the tool gets
========== ===================================== ================================================================
siril      ``mosaic_siril.fits``                 one HDU, float32 ``3 x H x W`` planes R, G, B (Siril's colour
                                                 FITS), unit scale (peak 1, ``ADUSCALE``), 0 where nothing was
                                                 covered (Siril's statistics leave zero pixels out; NaN stops
                                                 them), ``ROWORDER='BOTTOM-UP'``, the 2D celestial WCS.
pixinsight ``mosaic_pixinsight.fits``            the same layout (PixInsight reads a 3-plane FITS as RGB, floats
                                                 in [0, 1], honours ``ROWORDER``), 0 fill.
astropy    ``mosaic_astropy_<R|G|B>.fits``       one 2D file per channel (``mosaic_astropy.fits`` for mono): ADU,
                                                 NaN where nothing was covered, a 2D WCS (``WCS(header)`` has 2
                                                 axes, so ``reproject_interp(hdul[0], header_2d)`` takes it),
                                                 extensions ``WEIGHT`` and ``MASK`` (read by ``CCDData.read``).
swarp      ``mosaic_swarp_<R|G|B>.fits`` +       one 2D single-HDU FITS per channel (SWarp co-adds planes, and
           ``mosaic_swarp_<R|G|B>.weight.fits``  takes every extension as one more image), ADU, 0 where nothing
                                                 was covered, and its weight map (``WEIGHT``) named as SWarp's
                                                 ``WEIGHT_SUFFIX`` default (``.weight.fits``) expects.
========== ===================================== ================================================================

Every file keeps the mosaic's header cards (``EXPTIME``, ``NCOMBINE``, ``DATE-OBS``, ``HISTORY``...) and says
its preset in ``PRESET``.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from zemosaic._pixels import finite_in_every_channel
from zemosaic.io import fits as fits_io

__all__ = ["PRESETS", "check_presets", "write_preset"]

log = logging.getLogger(__name__)

PRESETS = ("siril", "pixinsight", "astropy", "swarp")
"""The tool presets, in the order the documentation gives them."""

_CHANNELS = ("R", "G", "B")


def check_presets(names: Iterable[str]) -> None:
    """Raise ValueError naming the first unknown preset."""
    unknown = [n for n in names if n not in PRESETS]
    if unknown:
        raise ValueError(f"unknown preset {unknown[0]!r}; expected any of {', '.join(PRESETS)}")


def write_preset(name: str, out_dir: str | os.PathLike, data: np.ndarray, weight: np.ndarray, wcs: WCS,
                 header: fits.Header) -> list[Path]:
    """Write the files of preset ``name`` into ``out_dir`` (see the module docstring).

    Parameters
    ----------
    name : str
        One of :data:`PRESETS`.
    data : numpy.ndarray
        ``H x W`` or ``H x W x 3`` in ADU, NaN (or anything) where ``weight`` is 0.  Not modified.
    weight : numpy.ndarray
        ``H x W``, 0 where nothing was covered.
    wcs : astropy.wcs.WCS
        2D celestial WCS of ``data``.
    header : astropy.io.fits.Header
        The mosaic's primary cards (``BUNIT``, ``ADUSCALE`` and the fill cards are rewritten per preset).

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    ValueError
        An unknown preset.
    """
    check_presets([name])
    out_dir = Path(out_dir)
    covered = np.asarray(weight) > 0
    if name in ("siril", "pixinsight"):
        paths = [_write_unit_cube(out_dir / f"mosaic_{name}.fits", name, data, covered, wcs, header)]
    else:
        paths = []
        for suffix, plane in _planes(data):
            stem = f"mosaic_{name}{suffix}"
            if name == "astropy":
                paths.append(_write_astropy_plane(out_dir / f"{stem}.fits", plane, weight, covered, wcs, header))
            else:
                paths += _write_swarp_plane(out_dir, stem, plane, weight, covered, wcs, header)
    log.info("preset %s written: %s", name, ", ".join(p.name for p in paths))
    return paths


# ------------------------------------------------------------------------------------------------------------------
# private helpers

def _planes(data: np.ndarray) -> Sequence[tuple[str, np.ndarray]]:
    if data.ndim == 2:
        return [("", data)]
    return [(f"_{c}", data[..., k]) for k, c in enumerate(_CHANNELS[:data.shape[2]])]


def _cards(header: fits.Header, preset: str, *, bunit: str, scale: float, fill: str) -> fits.Header:
    out = header.copy()
    out["PRESET"] = (preset, "zemosaic --preset")
    out["BUNIT"] = (bunit, "ADU = pixel value * ADUSCALE" if bunit == "" else "weighted mean of the master tiles")
    out["OUTSCALE"] = ("unit" if bunit == "" else "adu", "adu (as co-added) or unit (peak 1)")
    out["ADUSCALE"] = (scale, "ADU = pixel value * ADUSCALE")
    out["FILLVAL"] = (fill, "value of the uncovered pixels")
    return out


def _write_unit_cube(path: Path, preset: str, data: np.ndarray, covered: np.ndarray, wcs: WCS,
                     header: fits.Header) -> Path:
    """One HDU, channels as planes, divided by the brightest covered value, 0 where nothing was covered."""
    values = np.asarray(data, dtype=np.float32)
    colour = values if values.ndim == 3 else values[..., None]
    good = covered & finite_in_every_channel(colour)
    peak = float(colour[good].max()) if good.any() else 1.0
    scale = peak if np.isfinite(peak) and peak > 0 else 1.0
    out = np.where(good[..., None], colour / np.float32(scale), np.float32(0.0)).astype(np.float32)
    cards = _cards(header, preset, bunit="", scale=scale, fill="0.0")
    cards["ROWORDER"] = ("BOTTOM-UP", "first row at the bottom")
    return fits_io.write_fits_image(path, out if values.ndim == 3 else out[..., 0], wcs=wcs, header_extra=cards)


def _write_astropy_plane(path: Path, plane: np.ndarray, weight: np.ndarray, covered: np.ndarray, wcs: WCS,
                         header: fits.Header) -> Path:
    out = np.where(covered & np.isfinite(plane), plane, np.float32(np.nan)).astype(np.float32)
    cards = _cards(header, "astropy", bunit="ADU", scale=1.0, fill="nan")
    mask = fits.ImageHDU(data=(~np.isfinite(out)).astype(np.uint8), name="MASK")
    mask.header["COMMENT"] = "1 where the pixel holds no data, 0 elsewhere"
    return fits_io.write_fits_image(path, out, wcs=wcs, header_extra=cards, extensions={"WEIGHT": weight},
                                    extra_hdus=(mask,))


def _write_swarp_plane(out_dir: Path, stem: str, plane: np.ndarray, weight: np.ndarray, covered: np.ndarray,
                       wcs: WCS, header: fits.Header) -> list[Path]:
    good = covered & np.isfinite(plane)
    out = np.where(good, plane, np.float32(0.0)).astype(np.float32)
    cards = _cards(header, "swarp", bunit="ADU", scale=1.0, fill="0.0")
    image = fits_io.write_fits_image(out_dir / f"{stem}.fits", out, wcs=wcs, header_extra=cards)
    weight_cards = fits.Header([("PRESET", "swarp", "weight map of " + image.name)])
    weight_path = fits_io.write_fits_image(out_dir / f"{stem}.weight.fits",
                                           np.where(good, weight, 0.0).astype(np.float32), wcs=wcs,
                                           header_extra=weight_cards)
    return [image, weight_path]
