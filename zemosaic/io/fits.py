"""FITS / WCS input and output: raw frames in, float32 images with WCS and named extensions out.

Reading (the edge where bad input is caught):

* :func:`read_frame_info` reads headers and the celestial WCS only (cheap: the pixel data are never loaded), for the
  scan phase; :func:`read_frame` loads the pixels as float32 ``H x W`` (mono) or ``H x W x 3`` (colour, R, G, B),
  with BZERO/BSCALE applied, big-endian data made native, 2D Bayer frames debayered (``BAYERPAT`` +
  ``XBAYROFF``/``YBAYROFF``, see :mod:`debayer`) and colour cubes stored ``3 x H x W`` or ``H x W x 3`` returned HWC.
* The image is taken from the first HDU that holds image data (primary, else the first image extension; tile
  compressed images included: the image of a ``.fits.fz`` is its extension 1).  Gzipped files (``.fit.gz``,
  ``.fits.gz``) are read as they are (astropy decompresses them).
* A WCS keyword astropy cannot parse (``CRVAL2 = NaN``) would silently become 0: such a frame, and one whose WCS is
  degenerate (non-finite or singular matrix, absurd or skewed pixel scale), has no usable WCS, with the reason.
* Every problem with an input file raises a :class:`FitsInputError` subclass whose message starts with the file path
  and then says what is wrong, so the pipeline can log it in one line, reject the file and go on.

Writing: :func:`write_fits_image` writes float32 images (colour as ``3 x H x W``, NAXIS3 = 3) with the WCS as explicit
``CDi_j`` keywords (Montage misreads ``PCi_j`` with ``CDELTi = 1``), SIP kept, plus named float32 image extensions
(``ALPHA``, ``COVERAGE``, ``WEIGHT``...), atomically (temp file in the same folder, then ``os.replace``).
:func:`read_fits_image` reads such products back.
"""
from __future__ import annotations

import gzip
import logging
import os
import re
import warnings
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.io.fits.verify import VerifyError
from astropy.utils.exceptions import AstropyWarning
from astropy.wcs import WCS

from zemosaic._pixels import sum_2x2
from zemosaic.io import debayer as _debayer
from zemosaic.io.atomic import atomic_output
from zemosaic.io.keywords import keyword_problems

__all__ = [
    "FitsInputError",
    "NotFitsError",
    "TruncatedFitsError",
    "NoImageDataError",
    "UnsupportedLayoutError",
    "NoCelestialWcsError",
    "FrameInfo",
    "Frame",
    "FitsImage",
    "read_frame_info",
    "read_frame",
    "read_frame_pixels",
    "read_image_header",
    "read_luminance",
    "write_fits_image",
    "add_channel_axis",
    "read_cfa_frame",
    "read_fits_image",
]

log = logging.getLogger(__name__)


class FitsInputError(ValueError):
    """An input file cannot be used.  The message starts with the file path, then says what is wrong."""

    def reason_for(self, path: str | os.PathLike) -> str:
        """What is wrong with ``path``: the message without its leading ``"<path>: "``."""
        text, prefix = str(self), f"{path}: "
        return text[len(prefix):] if text.startswith(prefix) else text


class NotFitsError(FitsInputError):
    """The file is not a FITS file (no ``SIMPLE`` card at its start, or an unreadable header)."""


class TruncatedFitsError(FitsInputError):
    """The file is shorter than its headers announce (an interrupted copy or write)."""


class NoImageDataError(FitsInputError):
    """No HDU of the file holds image data (e.g. a header-only primary followed by tables)."""


class UnsupportedLayoutError(FitsInputError):
    """The image data have a layout we cannot turn into ``H x W`` or ``H x W x 3`` (1D, 4D, 2 planes, bad BAYERPAT)."""


class NoCelestialWcsError(FitsInputError):
    """The header has no usable celestial WCS (missing CTYPE, non-celestial axes, singular CD matrix...)."""


@dataclass(frozen=True, eq=False)
class FrameInfo:
    """What the pipeline needs to know about a raw frame before loading its pixels.

    Attributes
    ----------
    path : Path
        The file.
    shape : tuple of int
        ``(H, W)`` of the image as it will be in memory.
    n_channels : int
        1 (mono) or 3 (colour cube, or Bayer frame once debayered).
    bayer_pattern : str or None
        Effective 2x2 pattern at numpy element ``[0, 0]`` (``BAYERPAT`` shifted by ``XBAYROFF``/``YBAYROFF``), None
        when the frame is not a Bayer mosaic.
    exposure_s : float or None
        ``EXPTIME`` (or ``EXPOSURE``) in seconds.
    date_obs : str or None
        ``DATE-OBS`` as written.
    instrument : str or None
        ``INSTRUME``.
    mount_mode : str or None
        ``"altaz"`` for ``EQMODE = 0``, ``"equatorial"`` for ``EQMODE = 1``, None when unknown.
    wcs : astropy.wcs.WCS or None
        2D celestial WCS (SIP kept) whose pixel axes are the image's x (column) and y (row); ``pixel_shape`` set.
        None only when the frame was read with ``require_wcs=False`` and its header has no usable WCS.
    header : astropy.io.fits.Header
        Header of the image HDU.
    wcs_problem : str or None
        Why ``wcs`` is None (the :class:`NoCelestialWcsError` message without the path).
    keyword_problems : tuple of str
        Keywords we use whose value is unparsable or impossible, each with what is done instead
        (:func:`zemosaic.io.keywords.keyword_problems`).
    """

    path: Path
    shape: tuple[int, int]
    n_channels: int
    bayer_pattern: str | None
    exposure_s: float | None
    date_obs: str | None
    instrument: str | None
    mount_mode: str | None
    wcs: WCS | None
    header: fits.Header
    wcs_problem: str | None = None
    keyword_problems: tuple[str, ...] = ()

    @property
    def celestial_wcs(self) -> WCS:
        """The WCS; raises :class:`NoCelestialWcsError` naming the file when the frame has none."""
        if self.wcs is None:
            raise NoCelestialWcsError(f"{self.path}: {self.wcs_problem or 'no celestial WCS'}")
        return self.wcs

    @property
    def center_radec(self) -> tuple[float, float]:
        """(RA, Dec) in degrees of the image's central pixel, RA in [0, 360)."""
        height, width = self.shape
        wcs = self.celestial_wcs
        world = wcs.pixel_to_world_values((width - 1) / 2.0, (height - 1) / 2.0)
        ra = float(world[wcs.wcs.lng]) % 360.0
        return ra, float(world[wcs.wcs.lat])

    @property
    def pixel_scale_arcsec(self) -> float:
        """Pixel scale in arcsec (square root of the linear pixel area at the reference point)."""
        return float(np.sqrt(abs(np.linalg.det(self.celestial_wcs.pixel_scale_matrix))) * 3600.0)


@dataclass(frozen=True, eq=False)
class Frame:
    """A raw frame loaded for processing: ``data`` float32 ``H x W`` or ``H x W x 3`` (R, G, B) and its info."""

    data: np.ndarray
    info: FrameInfo


@dataclass(frozen=True, eq=False)
class FitsImage:
    """A product image read back: float32 ``data`` (HxW or HxWx3), celestial ``wcs`` or None, the primary image
    ``header`` and the named image ``extensions`` (EXTNAME -> float32 array, 3-plane cubes as HxWx3)."""

    data: np.ndarray
    wcs: WCS | None
    header: fits.Header
    extensions: dict[str, np.ndarray] = field(default_factory=dict)


def read_frame_info(path: str | os.PathLike, *, require_wcs: bool = True) -> FrameInfo:
    """Read the headers and celestial WCS of a raw frame without loading its pixels.

    Parameters
    ----------
    path : str or os.PathLike
        FITS file.  Never modified.
    require_wcs : bool
        When False, a frame without a usable celestial WCS is returned with ``wcs=None`` and the reason in
        ``wcs_problem`` (it can still be plate-solved) instead of raising :class:`NoCelestialWcsError`.

    Returns
    -------
    FrameInfo

    Raises
    ------
    NotFitsError
        Not a FITS file, or its header cannot be parsed.
    TruncatedFitsError
        The file is shorter than the header announces (data size from the header vs the file size).
    NoImageDataError
        No HDU holds image data.
    UnsupportedLayoutError
        1D, 4D or other layouts that are not ``H x W``, ``3 x H x W`` or ``H x W x 3``; unknown ``BAYERPAT``.
    NoCelestialWcsError
        No usable celestial WCS (only with ``require_wcs=True``).
    FitsInputError
        The file cannot be read at all (missing, permission denied).
    """
    path = Path(path)
    with _open_fits(path) as (hdul, file_size):
        hdu, layout = _first_image_hdu(hdul, path, file_size)
        return _frame_info(path, hdul, hdu, layout, require_wcs=require_wcs)


def read_frame(path: str | os.PathLike, *, debayer_method: str = "edge_aware", require_wcs: bool = True) -> Frame:
    """Load a raw frame as float32, debayered if it is a Bayer mosaic.

    Parameters
    ----------
    path : str or os.PathLike
        FITS file.  Never modified.
    debayer_method : str
        ``"edge_aware"`` (Malvar-He-Cutler, default) or ``"bilinear"``, used when the header has ``BAYERPAT``.
    require_wcs : bool
        As in :func:`read_frame_info`.

    Returns
    -------
    Frame
        ``data`` is native float32 ``H x W`` or ``H x W x 3`` (R, G, B), BZERO/BSCALE applied.  All-NaN or constant
        data are returned as they are (judging them is the pipeline's job).

    Raises
    ------
    FitsInputError
        The subclasses listed in :func:`read_frame_info`, for the same reasons.
    ValueError
        Unknown ``debayer_method``.
    """
    _check_debayer_method(debayer_method)
    path = Path(path)
    with _open_fits(path) as (hdul, file_size):
        hdu, layout = _first_image_hdu(hdul, path, file_size)
        info = _frame_info(path, hdul, hdu, layout, require_wcs=require_wcs)
        data = _read_pixels(hdu, layout, path)
    if info.bayer_pattern is not None:
        data = _debayer.debayer(data, info.bayer_pattern, debayer_method)
        log.debug("%s: debayered (%s, %s)", path, info.bayer_pattern, debayer_method)
    return Frame(data=data, info=info)


def read_image_header(path: str | os.PathLike) -> fits.Header:
    """The header of a frame's image HDU (the primary, else the first image extension), as :func:`read_frame_info`
    gives it in ``FrameInfo.header``, without building the WCS (several times the cost of reading the header).
    Raises as :func:`read_frame_info`."""
    path = Path(path)
    with _open_fits(path) as (hdul, file_size):
        hdu, _ = _first_image_hdu(hdul, path, file_size)
        return hdu.header.copy()


def read_frame_pixels(path: str | os.PathLike, *, debayer_method: str = "edge_aware") -> np.ndarray:
    """A frame's pixels as :func:`read_frame` returns them (float32, debayered), without its WCS and header facts.

    For a frame whose headers were read already (Phase 1's scan, Phase 1b's WCS): building its WCS again costs more
    than reading a Seestar frame's pixels. Raises as :func:`read_frame`.
    """
    _check_debayer_method(debayer_method)
    path = Path(path)
    with _open_fits(path) as (hdul, file_size):
        hdu, layout = _first_image_hdu(hdul, path, file_size)
        bayer = _bayer_pattern(hdu.header, path) if layout in ("mono", "single_plane") else None
        shape = _image_shape(hdu.header, layout)
        if bayer is not None and min(shape) < 2:
            raise UnsupportedLayoutError(f"{path}: Bayer frame {shape[0]} x {shape[1]} is too small to debayer")
        data = _read_pixels(hdu, layout, path)
    return data if bayer is None else _debayer.debayer(data, bayer, debayer_method)


def _check_debayer_method(method: str) -> None:
    if method not in _debayer.DEBAYER_METHODS:
        raise ValueError(f"unknown debayer method {method!r}; expected one of {', '.join(_debayer.DEBAYER_METHODS)}")


def read_cfa_frame(path: str | os.PathLike) -> tuple[np.ndarray, str | None]:
    """A raw frame's pixels as stored, float32 ``H x W`` (never debayered), and its effective Bayer pattern
    (``BAYERPAT`` shifted by ``XBAYROFF``/``YBAYROFF``; None for a frame that is not a Bayer mosaic), without its
    WCS.  For CFA drizzle (:mod:`zemosaic.stack.cfa_drizzle`) and Phase 5.5's super-pixels
    (:mod:`zemosaic.pipeline.frame_skies`); raises as :func:`read_frame`."""
    path = Path(path)
    with _open_fits(path) as (hdul, file_size):
        hdu, layout = _first_image_hdu(hdul, path, file_size)
        bayer = _bayer_pattern(hdu.header, path) if layout in ("mono", "single_plane") else None
        data = _read_pixels(hdu, layout, path)
    return data, bayer


def read_luminance(path: str | os.PathLike, *, binning: int = 2) -> np.ndarray:
    """A frame's luminance reduced ``binning x binning``, fast: no debayering, for star detection.

    A Bayer frame's 2x2 cells hold one R, two G and one B: their sum is the luminance of the cell, so with
    ``binning=2`` (the default) a Bayer frame is read at half resolution without interpolating anything.
    Colour and mono images are averaged over their channels, then summed in blocks. Pixel ``(i, j)`` of the
    result covers full-resolution pixels ``binning*i .. binning*i + binning - 1``: its centre is at
    ``binning * i + (binning - 1) / 2`` in full-resolution coordinates. Partial blocks at the far edges are
    dropped. The WCS is not required.

    Raises
    ------
    FitsInputError
        As :func:`read_frame` does.
    ValueError
        ``binning`` below 1.
    """
    if int(binning) < 1:
        raise ValueError(f"binning must be >= 1, got {binning}")
    path, b = Path(path), int(binning)
    with _open_fits(path) as (hdul, file_size):
        hdu, layout = _first_image_hdu(hdul, path, file_size)
        data = _read_pixels(hdu, layout, path)
    plane = data.mean(axis=2, dtype=np.float32) if data.ndim == 3 else data
    if b == 2 and plane.dtype == np.float32:
        return sum_2x2(plane)  # numpy's sums below, bit for bit, 5x faster
    h, w = (plane.shape[0] // b) * b, (plane.shape[1] // b) * b
    return plane[:h, :w].reshape(h // b, b, w // b, b).sum(axis=(1, 3), dtype=np.float32)


def add_channel_axis(header: fits.Header) -> None:
    """Give a C x H x W cube's header, whose celestial WCS (``CD`` matrix) covers the first two axes, its third: the
    colour plane (``CTYPE3 = 'CHANNEL'``, plane 1 = R, 2 = G, 3 = B), so that WCS readers take all three axes as
    written instead of guessing (astropy's ``cdfix``)."""
    header["WCSAXES"] = 3
    for key, value, comment in (("CTYPE3", "CHANNEL", "colour plane: 1 = R, 2 = G, 3 = B"),
                                ("CRPIX3", 1.0, ""), ("CRVAL3", 1.0, ""), ("CD3_3", 1.0, "")):
        header[key] = (value, comment)


def write_fits_image(
    path: str | os.PathLike,
    data: np.ndarray,
    *,
    wcs: WCS | None = None,
    header_extra: Mapping | None = None,
    extensions: Mapping[str, np.ndarray] | None = None,
    extra_hdus: Sequence[fits.ImageHDU] = (),
    channel_axis: bool = False,
) -> Path:
    """Write a float32 image with its WCS and named image extensions, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; its folder is created if missing.  An existing file is replaced only once the new one is
        complete (temp file in the same folder + ``os.replace``), so an interruption never leaves a half-written FITS.
    data : numpy.ndarray
        ``H x W`` or ``H x W x 3`` (written as ``3 x H x W``, NAXIS3 = 3).  Stored as float32; NaN allowed.
    wcs : astropy.wcs.WCS, optional
        2D (celestial) WCS, written with explicit ``CDi_j`` keywords (no ``PCi_j``/``CDELTi``); SIP kept.
    header_extra : Mapping or astropy.io.fits.Header, optional
        Extra keywords, ``key -> value`` or ``key -> (value, comment)``.  Structural keywords (SIMPLE, BITPIX,
        NAXISn, EXTEND, BZERO, BSCALE...) are skipped, and so are WCS keywords when ``wcs`` is given (the new WCS
        wins), so a raw frame's header can be passed as it is.
    extensions : Mapping of str to numpy.ndarray, optional
        ``EXTNAME -> array`` (``H x W`` or ``H x W x 3``, same H and W as ``data``), written as float32 image
        extensions in the given order, each with the WCS.
    extra_hdus : sequence of astropy.io.fits.ImageHDU, optional
        Ready-made image HDUs (their own header and WCS, any shape) written after ``extensions`` in the same
        atomic write, e.g. the mosaic's decimated ``BACKGROUND`` model.
    channel_axis : bool
        Colour data with a ``wcs``: also describe the plane axis (``WCSAXES = 3``, ``CTYPE3 = 'CHANNEL'``, world
        value 1, 2, 3 for R, G, B), so that ``WCS(header)`` is exactly what the header says: RA, Dec and the
        channel (wcslib gives a 3-plane image 3 WCS axes whatever ``WCSAXES`` says; ``.celestial`` is the 2D
        WCS).  Off, the header carries the 2D keywords only.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    ValueError
        Bad shapes, an extension whose H x W differs from the image's, or an empty / duplicate extension name.
    OSError
        The write failed (disk full...); ``filename`` is ``path`` and the message gives the MB being written.
    """
    path = Path(path)
    cube = _to_disk_layout(np.asarray(data), "data")
    wcs_header = _wcs_to_cd_header(wcs) if wcs is not None else fits.Header()
    primary_header = fits.Header()
    _add_extra_cards(primary_header, header_extra, skip_wcs=wcs is not None)
    primary_header.update(wcs_header)
    if channel_axis and wcs is not None and cube.ndim == 3:
        add_channel_axis(primary_header)
    primary_header.setdefault("ORIGIN", "ZeMosaic")
    hdus = [fits.PrimaryHDU(data=cube, header=primary_header)]
    hdus += _extension_hdus(extensions or {}, cube.shape[-2:], wcs_header)
    hdus += list(extra_hdus)
    try:
        with atomic_output(path) as handle:
            fits.HDUList(hdus).writeto(handle)
    except OSError as exc:  # a write to an open handle (named by atomic_output): say the size (disk full...)
        if exc.filename not in (None, str(path)):
            raise
        nbytes = sum(h.data.nbytes for h in hdus if h.data is not None)
        reason = str(exc.strerror or exc).removesuffix(" (writing)")
        raise OSError(exc.errno, f"{reason} (writing {nbytes / 2**20:.0f} MB)", str(path)) from exc
    return path


def read_fits_image(path: str | os.PathLike) -> FitsImage:
    """Read a float (or integer) FITS image with its WCS and named extensions, e.g. what
    :func:`write_fits_image` writes (master tiles, mosaics).

    Parameters
    ----------
    path : str or os.PathLike
        FITS file.  Never modified.

    Returns
    -------
    FitsImage
        ``data`` float32 ``H x W`` or ``H x W x 3``; ``wcs`` the celestial WCS or None when the header has none;
        ``extensions`` every other image HDU with data, by EXTNAME (``HDU<n>`` when unnamed).  No debayering.

    Raises
    ------
    FitsInputError
        ``NotFitsError``, ``TruncatedFitsError``, ``NoImageDataError``, ``UnsupportedLayoutError`` as for
        :func:`read_frame` (a missing WCS is not an error here).
    """
    path = Path(path)
    with _open_fits(path) as (hdul, file_size):
        hdu, layout = _first_image_hdu(hdul, path, file_size)
        data = _read_pixels(hdu, layout, path)
        try:
            wcs = _celestial_wcs(hdu.header, layout, path)
        except NoCelestialWcsError as exc:
            log.debug("%s", exc)
            wcs = None
        extensions = _read_extensions(hdul, hdu, path, file_size)
        header = hdu.header.copy()
    return FitsImage(data=data, wcs=wcs, header=header, extensions=extensions)




# --------------------------------------------------------------------------------------------------------------
# private helpers: opening and finding the image

_FITS_MAGIC = b"SIMPLE  ="
_GZIP_MAGIC = b"\x1f\x8b"
_UNKNOWN_SIZE = 1 << 62  # "file size": a gzip file's uncompressed size is not known without reading it all
_BLOCK = 2880
_CARD = 80


@contextmanager
def _open_fits(path: Path) -> Iterator[tuple[fits.HDUList, int]]:
    """Open ``path`` lazily (headers only), mapping every failure to a FitsInputError subclass."""
    try:
        file_size = path.stat().st_size
        with open(path, "rb") as handle:
            first_card = handle.read(_CARD)
        if first_card.startswith(_GZIP_MAGIC):  # .fit.gz / .fits.gz: astropy decompresses it as it reads
            file_size = _UNKNOWN_SIZE  # the compressed size says nothing of the data's; a short file fails to read
            with gzip.open(path, "rb") as handle:
                first_card = handle.read(_CARD)
    except (OSError, EOFError, zlib.error) as exc:
        what = getattr(exc, "strerror", None) or _one_line(exc)
        raise FitsInputError(f"{path}: cannot read file ({what})") from exc
    if not first_card.startswith(_FITS_MAGIC):
        raise NotFitsError(f"{path}: not a FITS file (it does not start with a SIMPLE card)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AstropyWarning)
            hdul = fits.open(path, memmap=False, lazy_load_hdus=True)
    except (OSError, ValueError, EOFError, zlib.error) as exc:
        if file_size == _UNKNOWN_SIZE:
            raise TruncatedFitsError(f"{path}: compressed FITS file cannot be read, it looks truncated or corrupt "
                                     f"({_one_line(exc)})") from exc
        if not _first_header_complete(path):
            raise TruncatedFitsError(f"{path}: truncated FITS file (the header ends without an END card, "
                                     f"file size {file_size} bytes)") from exc
        raise NotFitsError(f"{path}: unreadable FITS header ({_one_line(exc)})") from exc
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AstropyWarning)
            yield hdul, file_size
    finally:
        hdul.close()


def _one_line(exc: BaseException) -> str:
    """An exception's text on one line (astropy/wcslib messages span several)."""
    return " ".join(str(exc).split())


def _first_header_complete(path: Path) -> bool:
    """True if the first header has an END card (read block by block; headers are small)."""
    with open(path, "rb") as handle:
        while True:
            block = handle.read(_BLOCK)
            cards = [block[i:i + _CARD] for i in range(0, len(block) - _CARD + 1, _CARD)]
            if any(card[:8] == b"END     " for card in cards):
                return True
            if len(block) < _BLOCK:
                return False


def _first_image_hdu(hdul: fits.HDUList, path: Path, file_size: int):
    """Return (hdu, layout) of the first HDU holding image data, after checking it is complete on disk."""
    seen = []
    for index, hdu in _iter_hdus(hdul, path):
        _check_not_truncated(hdu, index, path, file_size)
        if _is_image_hdu(hdu) and _has_data(hdu.header):
            return hdu, _layout(hdu.header, path)
        seen.append(f"{index}:{type(hdu).__name__}{'' if _has_data(hdu.header) else ' (header only)'}")
    raise NoImageDataError(f"{path}: no image data in any HDU ({', '.join(seen) or 'no HDU'})")


def _iter_hdus(hdul: fits.HDUList, path: Path):
    index = 0
    while True:
        try:
            hdu = hdul[index]
        except IndexError:
            return
        except (OSError, ValueError, EOFError, zlib.error) as exc:
            raise TruncatedFitsError(f"{path}: HDU {index} cannot be read, the file looks truncated "
                                     f"({_one_line(exc)})") from exc
        yield index, hdu
        index += 1


def _is_image_hdu(hdu) -> bool:
    if isinstance(hdu, fits.GroupsHDU):
        return False
    return isinstance(hdu, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU))


def _has_data(header: fits.Header) -> bool:
    naxis = int(header.get("NAXIS", 0))
    return naxis > 0 and all(int(header.get(f"NAXIS{i}", 0)) > 0 for i in range(1, naxis + 1))


def _check_not_truncated(hdu, index: int, path: Path, file_size: int) -> None:
    """Compare the data size announced by the header with the bytes the file really has (padding not required)."""
    on_disk = getattr(hdu, "_bintable", hdu) if isinstance(hdu, fits.CompImageHDU) else hdu
    expected_end = hdu.fileinfo()["datLoc"] + int(on_disk.size)
    if expected_end > file_size:
        raise TruncatedFitsError(
            f"{path}: truncated FITS file (HDU {index} needs {expected_end} bytes, the file has {file_size})")


def _layout(header: fits.Header, path: Path) -> str:
    """Classify the data axes: mono HxW, planes 3xHxW, interleaved HxWx3, single_plane 1xHxW."""
    naxis = int(header["NAXIS"])
    dims = tuple(int(header[f"NAXIS{i}"]) for i in range(1, naxis + 1))  # FITS order: x first
    if naxis == 2:
        return "mono"
    if naxis == 3 and dims[2] == 3:
        return "planes"
    if naxis == 3 and dims[2] == 1:
        return "single_plane"
    if naxis == 3 and dims[0] == 3:
        return "interleaved"
    numpy_shape = " x ".join(str(d) for d in reversed(dims))
    raise UnsupportedLayoutError(f"{path}: unsupported image layout {numpy_shape} (NAXIS = {naxis}); expected "
                                 f"H x W, 3 x H x W or H x W x 3")


def _image_shape(header: fits.Header, layout: str) -> tuple[int, int]:
    if layout == "interleaved":
        return int(header["NAXIS3"]), int(header["NAXIS2"])
    return int(header["NAXIS2"]), int(header["NAXIS1"])


# --------------------------------------------------------------------------------------------------------------
# private helpers: header facts and WCS

_WCS_KEY = re.compile(
    r"^(WCSAXES|CTYPE\d|CRPIX\d|CRVAL\d|CDELT\d|CUNIT\d|CROTA\d|CD\d_\d|PC\d_\d|PV\d_\d+|PS\d_\d+|LONPOLE|LATPOLE|"
    r"RADESYS|RADECSYS|EQUINOX|EPOCH|WCSNAME|(A|B|AP|BP)_(ORDER|DMAX|\d+_\d+))$")
_STRUCTURAL_KEY = re.compile(r"^(SIMPLE|XTENSION|BITPIX|NAXIS\d*|EXTEND|PCOUNT|GCOUNT|BZERO|BSCALE|BLANK|"
                             r"EXTNAME|CHECKSUM|DATASUM|END)$")
_MOUNT_MODES = {0: "altaz", 1: "equatorial"}
# observation times astropy's WCS carries (from the frame the WCS came from): not the product's, whose times are
# those of all its frames (header_extra, zemosaic.io.headers)
_OBS_TIME_KEY = re.compile(r"^(DATE|MJD)-(OBS|BEG|AVG|END)$")


def _frame_info(path: Path, hdul: fits.HDUList, hdu, layout: str, *, require_wcs: bool = True) -> FrameInfo:
    header = hdu.header
    primary = hdul[0].header
    shape = _image_shape(header, layout)
    bayer = _bayer_pattern(header, path) if layout in ("mono", "single_plane") else None
    if bayer is not None and min(shape) < 2:
        raise UnsupportedLayoutError(f"{path}: Bayer frame {shape[0]} x {shape[1]} is too small to debayer")
    wcs, problem = None, None
    try:
        wcs = _celestial_wcs(header, layout, path)
    except NoCelestialWcsError as exc:
        if require_wcs:
            raise
        problem = exc.reason_for(path)
    return FrameInfo(
        path=path,
        shape=shape,
        n_channels=1 if layout in ("mono", "single_plane") and bayer is None else 3,
        bayer_pattern=bayer,
        exposure_s=_exposure(header, primary),
        date_obs=_text_fact(header, primary, "DATE-OBS"),
        instrument=_text_fact(header, primary, "INSTRUME"),
        mount_mode=_mount_mode(header, primary),
        wcs=wcs,
        header=header.copy(),
        wcs_problem=problem,
        keyword_problems=tuple(keyword_problems(
            header if primary is header else {**dict(primary.items()), **dict(header.items())},
            colour_planes=layout not in ("mono", "single_plane"), has_wcs=wcs is not None)),
    )


def _fact(header: fits.Header, primary: fits.Header, key: str):
    """A keyword from the image header, else from the primary header (image in an extension)."""
    value = header.get(key)
    return primary.get(key) if value is None and primary is not header else value


def _text_fact(header, primary, key) -> str | None:
    value = _fact(header, primary, key)
    text = str(value).strip() if value is not None else ""
    return text or None


def _exposure(header, primary) -> float | None:
    for key in ("EXPTIME", "EXPOSURE"):
        value = _fact(header, primary, key)
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            continue
        if np.isfinite(seconds) and seconds >= 0:
            return seconds
    return None


def _mount_mode(header, primary) -> str | None:
    value = _fact(header, primary, "EQMODE")
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return _MOUNT_MODES.get(int(number)) if number in (0.0, 1.0) else None


def _bayer_pattern(header: fits.Header, path: Path) -> str | None:
    raw = header.get("BAYERPAT")
    if raw is None or str(raw).strip().upper() in ("", "NONE"):
        return None
    try:
        x_off = int(float(header.get("XBAYROFF", 0) or 0))
        y_off = int(float(header.get("YBAYROFF", 0) or 0))
        return _debayer.effective_bayer_pattern(str(raw), x_off, y_off)
    except (TypeError, ValueError) as exc:
        raise UnsupportedLayoutError(f"{path}: unusable Bayer keywords BAYERPAT={raw!r} "
                                     f"XBAYROFF={header.get('XBAYROFF')!r} YBAYROFF={header.get('YBAYROFF')!r} "
                                     f"({_one_line(exc)})") from exc


def _celestial_wcs(header: fits.Header, layout: str, path: Path) -> WCS:
    """The 2D celestial WCS whose pixel axes are the image's x and y; NoCelestialWcsError when unusable."""
    image_axes = [2, 3] if layout == "interleaved" else [1, 2]  # FITS axes holding x and y
    _check_wcs_cards(header, image_axes, path)
    if not any(header.get(f"CTYPE{i}") for i in image_axes):  # no WCS at all: said without building one (a scan
        names = "/".join(f"CTYPE{i}" for i in image_axes)       # of thousands of WCS-less files)
        raise NoCelestialWcsError(f"{path}: no celestial WCS (no {names})")
    try:
        wcs = WCS(header, naxis=image_axes, relax=True, fix=True)
    except (ValueError, KeyError, MemoryError) as exc:
        raise NoCelestialWcsError(f"{path}: invalid WCS in header ({_one_line(exc)})") from exc
    if not wcs.has_celestial:
        ctypes = [header.get(f"CTYPE{i}") for i in image_axes]
        names = "/".join(f"CTYPE{i}" for i in image_axes)
        problem = f"no {names}" if not any(ctypes) else f"non-celestial {names} = {ctypes}"
        raise NoCelestialWcsError(f"{path}: no celestial WCS ({problem})")
    _check_celestial(wcs, _image_shape(header, layout), path)
    return wcs


_NUMERIC_WCS_KEY = re.compile(
    r"^(?:(CRVAL|CRPIX|CDELT|CROTA)(\d)|(CD|PC)(\d)_(\d)|(?:A|B|AP|BP)_\d+_\d+|LONPOLE|LATPOLE)$")
_SCALE_RANGE_ARCSEC = (1e-3, 36000.0)  # pixel scales outside this are degenerate, not optics
_MAX_AXIS_SCALE_RATIO = 10.0  # a pixel ten times longer than wide is a broken CD matrix, not a camera


def _check_wcs_cards(header: fits.Header, image_axes: list[int], path: Path) -> None:
    """Refuse a numeric WCS keyword of the image axes whose value is not a finite number.

    astropy's WCS skips a card it cannot parse (``CRVAL2 = NaN`` is not valid FITS) and uses the keyword's default
    (0) instead: such a frame would land degrees away. A NaN or infinite value is refused the same way."""
    axes = {str(a) for a in image_axes}
    for card in header.cards:
        match = _NUMERIC_WCS_KEY.match(card.keyword)
        if match is None:
            continue
        digits = [d for d in (match.group(2), match.group(4), match.group(5)) if d]
        if any(d not in axes for d in digits):
            continue  # a keyword of another axis (the colour axis of a cube)
        try:
            value = card.value
        except VerifyError:
            value = None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value):
            continue
        raw = str(getattr(card, "_image", "") or "")[10:].split("/")[0].strip() or repr(value)
        raise NoCelestialWcsError(f"{path}: WCS keyword {card.keyword} = {raw} is not a finite number "
                                  "(a broken WCS, not used)")


def _check_celestial(wcs: WCS, shape: tuple[int, int], path: Path) -> None:
    matrix = wcs.pixel_scale_matrix
    det = float(np.linalg.det(matrix)) if np.all(np.isfinite(matrix)) else float("nan")
    if not np.isfinite(det) or abs(det) < 1e-30:
        raise NoCelestialWcsError(f"{path}: singular or invalid WCS matrix (CD/PC determinant {det:g})")
    axis_scales = np.hypot(matrix[0], matrix[1]) * 3600.0  # arcsec per pixel along x and y
    scale = float(np.sqrt(abs(det)) * 3600.0)
    if not _SCALE_RANGE_ARCSEC[0] <= scale <= _SCALE_RANGE_ARCSEC[1]:
        raise NoCelestialWcsError(f"{path}: degenerate WCS (pixel scale {scale:.3g} arcsec outside "
                                  f"{_SCALE_RANGE_ARCSEC[0]:g}..{_SCALE_RANGE_ARCSEC[1]:g})")
    if axis_scales.max() > _MAX_AXIS_SCALE_RATIO * axis_scales.min():
        raise NoCelestialWcsError(f"{path}: degenerate WCS (pixel {axis_scales[0]:.3g} x {axis_scales[1]:.3g} "
                                  "arcsec: a CD/PC matrix this skewed is broken)")
    lat = float(wcs.wcs.crval[wcs.wcs.lat])
    if not -90.0 <= lat <= 90.0:
        raise NoCelestialWcsError(f"{path}: degenerate WCS (reference latitude CRVAL = {lat:g} deg, beyond a pole)")
    height, width = shape
    wcs.pixel_shape = (width, height)
    try:
        world = wcs.pixel_to_world_values((width - 1) / 2.0, (height - 1) / 2.0)
    except (ValueError, ArithmeticError) as exc:
        raise NoCelestialWcsError(f"{path}: WCS cannot map the image centre to the sky "
                                  f"({_one_line(exc)})") from exc
    if not np.all(np.isfinite(world)):
        raise NoCelestialWcsError(f"{path}: WCS maps the image centre to no sky position")


# --------------------------------------------------------------------------------------------------------------
# private helpers: pixels

def _read_pixels(hdu, layout: str, path: Path) -> np.ndarray:
    """Native float32 HxW or HxWx3 from an image HDU (astropy applies BZERO/BSCALE)."""
    try:
        raw = hdu.data
    except (OSError, ValueError, TypeError, EOFError, zlib.error) as exc:
        raise TruncatedFitsError(f"{path}: cannot read the pixel data ({_one_line(exc)})") from exc
    data = np.asarray(raw, dtype=np.float32)
    if layout == "planes":
        data = np.moveaxis(data, 0, -1)
    elif layout == "single_plane":
        data = data[0]
    return np.ascontiguousarray(data)


def _read_extensions(hdul: fits.HDUList, primary_hdu, path: Path, file_size: int) -> dict[str, np.ndarray]:
    extensions: dict[str, np.ndarray] = {}
    for index, hdu in _iter_hdus(hdul, path):
        if hdu is primary_hdu or not _is_image_hdu(hdu) or not _has_data(hdu.header):
            continue
        _check_not_truncated(hdu, index, path, file_size)
        name = str(hdu.header.get("EXTNAME", "")).strip().upper() or f"HDU{index}"
        extensions[name] = _read_pixels(hdu, _layout(hdu.header, path), path)
    return extensions


def _to_disk_layout(data: np.ndarray, what: str) -> np.ndarray:
    """float32 HxW stays, HxWx3 becomes 3xHxW (contiguous, native byte order)."""
    if data.ndim == 2:
        return np.ascontiguousarray(data, dtype=np.float32)
    if data.ndim == 3 and data.shape[2] == 3:
        return np.ascontiguousarray(np.moveaxis(data, -1, 0), dtype=np.float32)
    raise ValueError(f"{what} must be H x W or H x W x 3, got shape {data.shape}")


# --------------------------------------------------------------------------------------------------------------
# private helpers: writing

def _wcs_to_cd_header(wcs: WCS) -> fits.Header:
    """WCS keywords with an explicit CD matrix (no PCi_j / CDELTi); SIP coefficients kept."""
    if wcs.naxis != 2:
        if not wcs.has_celestial:
            raise ValueError(f"write_fits_image needs a 2D WCS, got {wcs.naxis} axes")
        wcs = wcs.celestial
    matrix = wcs.pixel_scale_matrix
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyWarning)
        header = wcs.to_header(relax=True)
    for key in list(header.keys()):
        if re.match(r"^(PC\d_\d|CDELT\d|CD\d_\d|CROTA\d)$", key) or _OBS_TIME_KEY.match(key):
            del header[key]
    for i in range(2):
        for j in range(2):
            header[f"CD{i + 1}_{j + 1}"] = (float(matrix[i, j]), "Linear transformation matrix (deg/pixel)")
    return header


def _add_extra_cards(header: fits.Header, extra, *, skip_wcs: bool) -> None:
    if extra is None:
        return
    items = ((card.keyword, (card.value, card.comment)) for card in extra.cards) if isinstance(
        extra, fits.Header) else extra.items()
    for key, value in items:
        key = str(key).upper()
        if _STRUCTURAL_KEY.match(key) or (skip_wcs and _WCS_KEY.match(key)):
            continue
        value, comment = value if isinstance(value, tuple) else (value, None)
        if key in ("COMMENT", "HISTORY", ""):
            header.append((key, value), end=True)
        else:
            header[key] = (value, comment)


def _extension_hdus(extensions: Mapping[str, np.ndarray], image_hw, wcs_header: fits.Header) -> list[fits.ImageHDU]:
    hdus = []
    seen = set()
    for name, array in extensions.items():
        extname = str(name).strip().upper()
        if not extname or extname in seen:
            raise ValueError(f"extension names must be non-empty and unique, got {name!r}")
        seen.add(extname)
        cube = _to_disk_layout(np.asarray(array), f"extension {extname}")
        if cube.shape[-2:] != tuple(image_hw):
            raise ValueError(f"extension {extname} is {cube.shape[-2]} x {cube.shape[-1]}, the image is "
                             f"{image_hw[0]} x {image_hw[1]}")
        hdus.append(fits.ImageHDU(data=cube, header=wcs_header.copy(), name=extname))
    return hdus

