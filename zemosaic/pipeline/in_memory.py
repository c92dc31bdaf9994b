"""The Python API beside :func:`~zemosaic.pipeline.run.run_mosaic`: frames already in memory in, the mosaic (and
its master tiles) back as astropy ``CCDData`` objects with a celestial WCS, a mask and the weight map.

:func:`mosaic_from_frames` stages the frames as FITS files in a temporary folder and runs the same pipeline as the
folder run (the pipeline streams frames from disk caches by design, so that its memory stays bounded whatever the
number of frames): the mosaic is the one ``run_mosaic`` writes for the same frames, read back.
"""
from __future__ import annotations

import json
import os
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.nddata import CCDData
from astropy.utils.exceptions import AstropyWarning
from astropy.wcs import WCS

from zemosaic.config import ZeMosaicConfig, as_config
from zemosaic.io import fits as fits_io
from zemosaic.pipeline.run import run_mosaic
from zemosaic.progress import ProgressCallback

__all__ = ["InMemoryFrame", "MosaicProducts", "mosaic_from_frames", "read_product"]


@dataclass(frozen=True, eq=False)
class InMemoryFrame:
    """A raw frame in memory.

    Attributes
    ----------
    data : numpy.ndarray
        ``H x W`` (mono, or a Bayer mosaic when ``header`` has ``BAYERPAT``) or ``H x W x 3`` (R, G, B), any numeric
        dtype (as a FITS file would hold it).
    header : astropy.io.fits.Header or Mapping, optional
        The frame's keywords (``EXPTIME``, ``DATE-OBS``, ``BAYERPAT``, ``EQMODE``...; a WCS too when ``wcs`` is None).
    wcs : astropy.wcs.WCS, optional
        Celestial WCS of the image (wins over the header's).
    name : str, optional
        File name the frame is staged under (frames are taken in name order, as in a folder); default
        ``frame_NNNNN.fits`` in the given order.
    """

    data: np.ndarray
    header: fits.Header | Mapping | None = None
    wcs: WCS | None = None
    name: str | None = None


@dataclass(frozen=True, eq=False)
class MosaicProducts:
    """What :func:`mosaic_from_frames` returns.

    Attributes
    ----------
    mosaic : astropy.nddata.CCDData
        ``H x W`` or ``3 x H x W`` (channel first, as in ``mosaic.fits``) float32 in ``BUNIT`` units; ``wcs`` the 2D
        celestial WCS (``reproject`` takes it as it is); ``mask`` True where nothing was covered (weight 0);
        ``meta`` the FITS header (EXPTIME, NCOMBINE, DATE-OBS, HISTORY...).
    weight : numpy.ndarray
        ``H x W`` float32 co-addition weight (0 = uncovered).
    master_tiles : list of astropy.nddata.CCDData
        The master tiles the same way (``mask`` True where their ALPHA is 0); their ALPHA and COVERAGE maps are in
        :attr:`tile_maps`.
    tile_maps : list of dict
        Per master tile, its extensions by name (``ALPHA``, ``COVERAGE``), ``H x W`` float32.
    report : dict
        The run's ``run_report.json``.
    """

    mosaic: CCDData
    weight: np.ndarray
    master_tiles: list[CCDData] = field(default_factory=list)
    tile_maps: list[dict[str, np.ndarray]] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)


def mosaic_from_frames(frames: Sequence[InMemoryFrame | CCDData | tuple], config: ZeMosaicConfig | Mapping | None
                       = None, *, work_dir: str | os.PathLike | None = None,
                       progress_callback: ProgressCallback | None = None) -> MosaicProducts:
    """Build a mosaic from frames in memory.

    Parameters
    ----------
    frames : sequence
        :class:`InMemoryFrame`, ``CCDData`` / ``NDData`` (``data``, ``wcs``, ``meta`` as the header), or
        ``(data, header)`` tuples.
    config : ZeMosaicConfig or Mapping, optional
        As for ``run_mosaic`` (defaults when None).
    work_dir : str or os.PathLike, optional
        Folder where the frames (``work_dir/frames``) and the run's files (``work_dir/out``) are kept; by default a
        temporary folder, removed on return.
    progress_callback : callable, optional
        As for ``run_mosaic``.

    Returns
    -------
    MosaicProducts

    Raises
    ------
    ValueError
        No frame, or a frame whose data is not ``H x W`` or ``H x W x 3``.
    zemosaic.pipeline.run.NothingUsableError, MosaicRefusedError
        As ``run_mosaic`` raises them.

    Examples
    --------
    Frames read into memory (any array with its header, or ``wcs=``), mosaicked and returned as ``CCDData``:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from astropy.io import fits
    >>> import zemosaic
    >>> from zemosaic.synthetic.generator import SynthSpec, generate_dataset
    >>> folder = Path(tempfile.mkdtemp()) / "frames"
    >>> dataset = generate_dataset(folder, SynthSpec(panels=(1, 2), frames_per_panel=3, width=240, height=360,
    ...                                              pixel_scale_arcsec=4.8))
    >>> frames = []
    >>> for path in sorted(folder.glob("*.fit")):
    ...     with fits.open(path) as hdul:
    ...         frames.append(zemosaic.InMemoryFrame(hdul[0].data.copy(), hdul[0].header.copy()))
    >>> products = zemosaic.mosaic_from_frames(frames, {"output_fill_value": 0})
    >>> mosaic = products.mosaic
    >>> mosaic.shape[0], mosaic.wcs.naxis, mosaic.meta["NCOMBINE"], len(products.master_tiles)
    (3, 2, 6, 2)
    >>> mosaic.mask.shape == mosaic.shape, products.weight.shape == mosaic.shape[1:]
    (True, True)
    """
    if not frames:
        raise ValueError("mosaic_from_frames needs at least one frame")
    cfg = as_config(config)
    with tempfile.TemporaryDirectory(prefix="zemosaic_") as tmp:
        root = Path(work_dir) if work_dir is not None else Path(tmp)
        frames_dir = root / "frames"
        frames_dir.mkdir(parents=True, exist_ok=True)
        for k, frame in enumerate(frames):
            _stage(_as_frame(frame), frames_dir, k)
        result = run_mosaic(frames_dir, root / "out", cfg, progress_callback=progress_callback)
        mosaic, weight = read_product(result.mosaic_path, mask_from="WEIGHT")
        tiles, maps = [], []
        tiles_dir = root / "out" / "master_tiles"
        for path in sorted(tiles_dir.glob("master_tile_*.fits")) if tiles_dir.is_dir() else []:
            tile, _ = read_product(path, mask_from="ALPHA")
            tiles.append(tile)
            maps.append(dict(fits_io.read_fits_image(path).extensions))
        report = json.loads((root / "out" / "run_report.json").read_text(encoding="utf-8"))
    return MosaicProducts(mosaic=mosaic, weight=weight, master_tiles=tiles, tile_maps=maps, report=report)


def read_product(path: str | os.PathLike, *, mask_from: str = "WEIGHT") -> tuple[CCDData, np.ndarray]:
    """A ZeMosaic product (``mosaic.fits``, a master tile) as ``CCDData`` (channel-first data, celestial WCS, mask
    True where the ``mask_from`` extension is 0, header as ``meta``) and that extension's map (ones when absent)."""
    image = fits_io.read_fits_image(path)
    data = image.data if image.data.ndim == 2 else np.moveaxis(image.data, -1, 0)
    weights = image.extensions.get(mask_from.upper())
    if weights is None:
        weights = np.ones(image.data.shape[:2], dtype=np.float32)
    uncovered = ~(np.nan_to_num(weights) > 0)
    mask = np.broadcast_to(uncovered, data.shape).copy()
    bunit = str(image.header.get("BUNIT", "")).strip()
    unit = u.Unit("adu" if bunit.lower() == "adu" else bunit, parse_strict="silent")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyWarning)
        ccd = CCDData(np.ascontiguousarray(data), unit=unit, wcs=image.wcs, mask=mask, meta=image.header)
    return ccd, weights


def _as_frame(frame) -> InMemoryFrame:
    if isinstance(frame, InMemoryFrame):
        return frame
    if isinstance(frame, tuple):
        return InMemoryFrame(np.asarray(frame[0]), frame[1] if len(frame) > 1 else None)
    data = getattr(frame, "data", None)
    if data is None:
        raise ValueError(f"cannot use {type(frame).__name__} as a frame: expected InMemoryFrame, CCDData/NDData or "
                         "(data, header)")
    header = getattr(frame, "meta", None) or getattr(frame, "header", None)
    return InMemoryFrame(np.asarray(data), header, getattr(frame, "wcs", None))


def _stage(frame: InMemoryFrame, folder: Path, index: int) -> Path:
    data = np.asarray(frame.data)
    if data.ndim == 3 and data.shape[2] == 3:
        data = np.moveaxis(data, -1, 0)  # FITS planes
    elif data.ndim != 2:
        raise ValueError(f"frame {index}: data must be H x W or H x W x 3, got shape {np.shape(frame.data)}")
    header = fits.Header()
    source = frame.header
    if source is not None:
        cards = source.cards if isinstance(source, fits.Header) else list(source.items())
        for card in cards:
            key, value = (card.keyword, (card.value, card.comment)) if isinstance(source, fits.Header) else card
            key = str(key).upper()
            if key in ("SIMPLE", "BITPIX", "EXTEND", "BZERO", "BSCALE", "BLANK") or key.startswith("NAXIS"):
                continue
            if key in ("HISTORY", "COMMENT", ""):
                header.append((key, value[0] if isinstance(value, tuple) else value), end=True)
            else:
                header[key] = value
    if frame.wcs is not None:
        header.update(frame.wcs.celestial.to_header(relax=True))
    path = folder / (frame.name or f"frame_{index:05d}.fits")
    fits.PrimaryHDU(np.ascontiguousarray(data), header=header).writeto(path, overwrite=True)
    return path
