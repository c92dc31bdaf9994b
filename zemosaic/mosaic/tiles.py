"""Master tiles as Phase 4 to 6 see them: what a tile is (:class:`TileInput`, known from its headers or from
Phase 3), finding the tiles of a folder, and reading one tile's pixels (data, alpha, WCS).

Tile indices.  Everywhere in :mod:`zemosaic.mosaic` (overlaps, corrections, seam steps) a tile is designated by its
index in the ``tiles`` list, which is also its ``tile_id`` when the list comes from :func:`discover_master_tiles`.

Tiles written by the original ZeMosaic (tinystork/zemosaic) are read by their own conventions:

- an integer ``ALPHA`` extension is its uint8 0..255 opacity: it is divided by 255 (a feathered 51 is 0.2, not 1);
- ``ZMT_EMPT = 1`` flags a tile it found empty (written all zero): the tile gets weight 0, logged with the reason;
  so does any tile with no signal (every pixel of non-zero alpha is 0 or non-finite), whoever wrote it;
- ``ZMT_NANZ = 1`` says non-finite pixels were written as 0.0: pixels whose channels are all 0.0 are missing;
- its frame count is ``ZMT_NALGN`` (frames aligned and stacked), else ``ZMT_NRAW``, when ``NFRAMES`` is absent.
"""
from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
from astropy.io import fits
from astropy.utils.exceptions import AstropyWarning
from astropy.wcs import WCS

from zemosaic._pixels import finite_in_every_channel
from zemosaic.io import fits as fits_io

__all__ = [
    "FITS_SUFFIXES",
    "KEEP_ALPHA",
    "TileInputError",
    "TileInput",
    "RejectedTile",
    "TilePixels",
    "discover_master_tiles",
    "tile_input_from_file",
    "tile_input_from_written",
    "read_tile",
]

log = logging.getLogger(__name__)

FITS_SUFFIXES = (".fits", ".fit", ".fts")
_UINT8_ALPHA_SCALE = 255.0  # the original ZeMosaic writes ALPHA as uint8 0..255
_ORIGINAL_FRAME_KEYS = ("ZMT_NALGN", "ZMT_NRAW")  # its frame counts, read when NFRAMES is absent
_EMPTY_EPS_SIGNAL = 1e-8  # |value| at or below this is no signal (the original's empty-tile threshold)
_WEIGHT_ZERO_LOGGED: set[tuple[str, str]] = set()  # (file, reason) already logged by _log_weight_zero
KEEP_ALPHA = 0.5
"""Alpha above which a tile pixel is *kept* (used to measure overlaps and seams; the co-addition weighs by alpha)."""


class TileInputError(fits_io.FitsInputError):
    """A file cannot be used as a master tile (integer raw frame, ALPHA of the wrong shape, bad NFRAMES...).
    The message starts with the file path."""


@dataclass(frozen=True)
class TileInput:
    """A master tile known from its headers (pixels not loaded).

    Attributes
    ----------
    tile_id : int
        Index of the tile in the run (and in the ``tiles`` list handed to the functions of this module).
    path : Path
        The FITS file (never modified).
    wcs : astropy.wcs.WCS
        2D celestial WCS of the image.
    shape : tuple of int
        ``(H, W)``.
    n_channels : int
        1 (mono) or 3 (RGB).
    n_frames : int
        Number of frames stacked into the tile (header ``NFRAMES``, else the original's ``ZMT_NALGN`` or
        ``ZMT_NRAW``; 1 when absent).
    has_alpha : bool
        Whether the file carries an ``ALPHA`` extension.
    alpha_scale : float
        What ``ALPHA`` is divided by: 255 for an integer (the original's uint8) ALPHA, else 1.
    empty_reason : str or None
        Why the tile is known from its headers to be empty (the original's ``ZMT_EMPT``): weight 0.
    zeros_missing : bool
        Pixels whose channels are all 0.0 are missing (the original's ``ZMT_NANZ = 1``).
    """

    tile_id: int
    path: Path
    wcs: WCS = field(repr=False, compare=False)
    shape: tuple[int, int]
    n_channels: int
    n_frames: int = 1
    has_alpha: bool = False
    alpha_scale: float = 1.0
    empty_reason: str | None = None
    zeros_missing: bool = False


@dataclass(frozen=True)
class RejectedTile:
    """A file of the master-tile folder that was not used, with a one-line reason (starting with the path)."""

    path: Path
    reason: str


class TilePixels(NamedTuple):
    """A tile's pixels as :func:`read_tile` returns them: ``values`` (H, W, C), ``alpha`` (H, W), ``wcs``, and
    ``coverage`` (H, W): the frames stacked into each pixel (the ``COVERAGE`` extension), None when the file has
    none of the image's size."""

    values: np.ndarray
    alpha: np.ndarray
    wcs: WCS
    coverage: np.ndarray | None = None

    def kept(self) -> np.ndarray:
        """``(H, W)`` bool: alpha > :data:`KEEP_ALPHA` and every channel finite."""
        return (self.alpha > KEEP_ALPHA) & finite_in_every_channel(self.values)


def discover_master_tiles(folder: str | os.PathLike) -> tuple[list[TileInput], list[RejectedTile]]:
    """Find the usable master tiles of a folder, reading headers only.

    Parameters
    ----------
    folder : str or os.PathLike
        Folder holding master tiles: ours (``master_tile_NNN.fits`` with ALPHA / COVERAGE) or any float FITS image
        (``H x W`` or 3 colour planes) with a celestial WCS.  Files whose suffix is not one of
        :data:`FITS_SUFFIXES` (case-insensitive) and hidden files are ignored; subfolders are not searched.

    Returns
    -------
    tiles : list of TileInput
        In file-name order; ``tile_id`` is the index in this list.
    rejected : list of RejectedTile
        Every FITS-named file that cannot be used, with a one-line reason.

    Raises
    ------
    NotADirectoryError
        ``folder`` is not a directory.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: not a directory")
    tiles: list[TileInput] = []
    rejected: list[RejectedTile] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in FITS_SUFFIXES or not path.is_file():
            continue
        try:
            tile = tile_input_from_file(path, len(tiles))
        except fits_io.FitsInputError as exc:
            log.warning("master tile rejected: %s", exc)
            rejected.append(RejectedTile(path, str(exc)))
            continue
        if tile.empty_reason is not None:
            _log_weight_zero(tile, tile.empty_reason)
        tiles.append(tile)
    log.info("master tiles in %s: %d usable, %d rejected", folder, len(tiles), len(rejected))
    return tiles, rejected


def tile_input_from_file(path: str | os.PathLike, tile_id: int) -> TileInput:
    """Describe one master-tile file from its headers (pixels not loaded).

    Parameters
    ----------
    path : str or os.PathLike
        FITS file.  Never modified.
    tile_id : int
        Index given to the tile.

    Returns
    -------
    TileInput

    Raises
    ------
    fits_io.FitsInputError
        Not FITS, truncated, no image, unsupported layout or no celestial WCS (the subclasses of
        :mod:`fits_io`), or :class:`TileInputError`: integer or Bayer data (a raw frame, not a tile), an ALPHA
        extension whose size differs from the image, a bad ``NFRAMES``.
    """
    path = Path(path)
    info = fits_io.read_frame_info(path)
    bitpix = int(info.header.get("BITPIX", 0))
    if bitpix > 0 or info.bayer_pattern is not None:
        raise TileInputError(f"{path}: integer or Bayer data (BITPIX={bitpix}): a raw frame, not a master tile")
    has_alpha, alpha_scale = _check_alpha_extension(path, info.shape)
    return TileInput(
        tile_id=int(tile_id),
        path=path,
        wcs=info.wcs,
        shape=(int(info.shape[0]), int(info.shape[1])),
        n_channels=int(info.n_channels),
        n_frames=_n_frames(info.header, path),
        has_alpha=has_alpha,
        alpha_scale=alpha_scale,
        empty_reason="ZMT_EMPT=1 (the original ZeMosaic found it empty)" if _flag(info.header, "ZMT_EMPT") else None,
        zeros_missing=_flag(info.header, "ZMT_NANZ"),
    )


def tile_input_from_written(path: str | os.PathLike, tile_id: int, *, shape, n_frames: int,
                            has_alpha: bool = True) -> TileInput:
    """Describe a master tile that this run has just written (Phase 3 -> Phase 4 hand-off).

    The size, channel count, frame count and ALPHA are what Phase 3 knows; the file is not validated again.
    Only the WCS is taken from the file's header (headers only, no pixels): the FITS text header rounds CRVAL and
    CRPIX in their last digits (about 1e-13 deg and 1e-10 px on the demo), and Phase 5 reprojects the pixels with
    the WCS stored in the file, so the global grid is computed from that same WCS.

    Parameters
    ----------
    path : str or os.PathLike
        The master tile written by Phase 3.
    tile_id : int
        Index of the tile in the ``tiles`` list handed to Phase 4.
    shape : sequence of int
        Shape of the written image, ``(H, W)`` or ``(H, W, 3)``.
    n_frames : int
        Frames stacked into the tile (its ``NFRAMES``).
    has_alpha : bool
        Whether an ALPHA extension was written.

    Returns
    -------
    TileInput

    Raises
    ------
    fits_io.FitsInputError
        The file's header cannot be read or holds no celestial WCS.
    """
    path = Path(path)
    return TileInput(
        tile_id=int(tile_id),
        path=path,
        wcs=fits_io.read_frame_info(path).wcs,
        shape=(int(shape[0]), int(shape[1])),
        n_channels=int(shape[2]) if len(shape) == 3 else 1,
        n_frames=int(n_frames),
        has_alpha=bool(has_alpha),
    )


def read_tile(tile: TileInput) -> TilePixels:
    """Read the pixels of a master tile.

    Parameters
    ----------
    tile : TileInput

    Returns
    -------
    TilePixels
        ``values`` float32 ``H x W x C``, ``alpha`` float32 ``H x W`` in [0, 1] (ALPHA / ``alpha_scale``, NaN -> 0;
        ones when the file has no ALPHA or one of the wrong size, the latter logged; 0 on the missing pixels of a
        ``zeros_missing`` tile; all 0 for an empty tile, logged once: module docstring), ``wcs`` the WCS stored in
        the file, ``coverage`` float32 ``H x W`` from the ``COVERAGE`` extension (NaN and negatives -> 0), None
        when absent or of another size.

    Raises
    ------
    fits_io.FitsInputError
        The file cannot be read or has no celestial WCS.
    """
    image = fits_io.read_fits_image(tile.path)
    if image.wcs is None:
        raise fits_io.NoCelestialWcsError(f"{tile.path}: no celestial WCS")
    values = image.data if image.data.ndim == 3 else image.data[..., None]
    alpha = image.extensions.get("ALPHA")
    if alpha is None or alpha.shape != values.shape[:2]:
        if alpha is not None:
            log.warning("%s: ALPHA of shape %s ignored (image %s)", tile.path, alpha.shape, values.shape[:2])
        alpha = np.ones(values.shape[:2], dtype=np.float32)
    elif tile.alpha_scale != 1.0:
        alpha = alpha.astype(np.float32) / np.float32(tile.alpha_scale)
    alpha = np.clip(np.nan_to_num(alpha.astype(np.float32, copy=False), nan=0.0), 0.0, 1.0)
    if tile.zeros_missing:
        alpha[np.all(values == 0.0, axis=2)] = 0.0
    reason = tile.empty_reason or _no_signal_reason(values, alpha)
    if reason is not None:
        _log_weight_zero(tile, reason)
        alpha = np.zeros_like(alpha)
    coverage = image.extensions.get("COVERAGE")
    if coverage is not None and coverage.shape == values.shape[:2]:
        coverage = np.clip(np.nan_to_num(coverage.astype(np.float32, copy=False), nan=0.0), 0.0, None)
    else:
        coverage = None
    return TilePixels(values, alpha, image.wcs, coverage)


# --------------------------------------------------------------------------------------------------------------------
# Private helpers
# --------------------------------------------------------------------------------------------------------------------


def _check_alpha_extension(path: Path, shape: tuple[int, int]) -> tuple[bool, float]:
    """Whether ``path`` has an ALPHA extension of the image's size, and the scale of its values (255 for integer
    pixels, else 1); headers only. TileInputError if mis-sized."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyWarning)
        with fits.open(path, memmap=True, lazy_load_hdus=True) as hdul:
            for hdu in hdul[1:]:
                if str(hdu.header.get("EXTNAME", "")).strip().upper() != "ALPHA":
                    continue
                hdr = hdu.header
                alpha_hw = (int(hdr.get("NAXIS2", 0)), int(hdr.get("NAXIS1", 0)))
                if alpha_hw != tuple(shape):
                    raise TileInputError(f"{path}: ALPHA extension is {alpha_hw[0]}x{alpha_hw[1]}, "
                                         f"image is {shape[0]}x{shape[1]}")
                return True, (_UINT8_ALPHA_SCALE if int(hdr.get("BITPIX", -32)) > 0 else 1.0)
    return False, 1.0


def _n_frames(header: fits.Header, path: Path) -> int:
    for key in _ORIGINAL_FRAME_KEYS:
        if "NFRAMES" not in header and key in header:
            try:
                return max(int(header[key]), 1)  # an empty tile of the original says 0: its alpha decides
            except (TypeError, ValueError):
                raise TileInputError(f"{path}: {key}={header[key]!r} is not an integer") from None
    value = header.get("NFRAMES", 1)
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise TileInputError(f"{path}: NFRAMES={value!r} is not an integer") from None
    if n < 1:
        raise TileInputError(f"{path}: NFRAMES={n} must be >= 1")
    return n


def _flag(header: fits.Header, key: str) -> bool:
    """A header flag of the original (1, True or 'T'/'1'/'true'/'yes' set it)."""
    value = header.get(key)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "t", "true", "yes")
    return bool(value) if value is not None else False


def _no_signal_reason(values: np.ndarray, alpha: np.ndarray) -> str | None:
    """Why a tile has no signal (every pixel of non-zero alpha is ~0 or non-finite), or None."""
    with np.errstate(invalid="ignore"):
        sample = np.abs(values[::8, ::8]) > _EMPTY_EPS_SIGNAL  # a real tile answers on this 1/64 sample
    if np.any(sample & (alpha[::8, ::8] > 0)[..., None]):
        return None
    weighted = values[alpha > 0]
    finite = weighted[np.isfinite(weighted)]
    if finite.size and float(np.max(np.abs(finite))) > _EMPTY_EPS_SIGNAL:
        return None
    return "no signal (every pixel of non-zero alpha is 0 or non-finite)"


def _log_weight_zero(tile: TileInput, reason: str) -> None:
    """Log once per file that a tile gets weight 0, and why."""
    key = (str(tile.path), reason)
    if key not in _WEIGHT_ZERO_LOGGED:
        _WEIGHT_ZERO_LOGGED.add(key)
        log.warning("master tile %d (%s) gets weight 0: %s", tile.tile_id, tile.path.name, reason)
