"""16-bit image exports of a mosaic for image editors: ``mosaic.tif`` (``tiff16``) and ``mosaic.png`` (``png16``).

* Linear by default: black (0) at the lowest covered value, white (65535) at the highest, so the file holds the
  FITS values within one 16-bit step of that range (:func:`quantise_linear` says exactly how); with
  ``stretch=True`` the preview's automatic stretch (:func:`zemosaic.mosaic.preview.stretch_for_display`) is applied
  first.  Uncovered pixels are 0 (black).
* Colour-managed: the PNG carries an ``sRGB`` chunk (with the ``gAMA`` / ``cHRM`` values the PNG specification
  pairs with it); the TIFF embeds an sRGB ICC profile (Pillow's ``ImageCms``).
* Rows flipped as the preview is: the first FITS row at the bottom, as Siril and DS9 show the FITS.
* Pillow cannot write 16-bit-per-channel RGB (it has no such image mode), so the TIFF is written with ``tifffile``
  and the PNG by a small encoder here (the PNG format is zlib-compressed rows and CRC-checked chunks).
"""
from __future__ import annotations

import io
import logging
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from zemosaic.io.atomic import atomic_output, atomic_write_bytes
from zemosaic.mosaic.preview import stretch_for_display

__all__ = [
    "EXPORT_SUFFIXES",
    "quantise_linear",
    "export_pixels",
    "write_png16",
    "write_tiff16",
    "write_exports",
]

log = logging.getLogger(__name__)

EXPORT_SUFFIXES = {"tiff16": ".tif", "png16": ".png"}
"""File suffix of each export format (``OUT/mosaic<suffix>``)."""
_MAX16 = 65535.0


def quantise_linear(image: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Map ``image`` linearly to uint16: ``round((x - black) / (white - black) * 65535)``.

    Parameters
    ----------
    image : numpy.ndarray
        ``H x W`` or ``H x W x C`` float.
    valid : numpy.ndarray of bool
        ``H x W``: pixels that hold data; the others become 0.

    Returns
    -------
    pixels : numpy.ndarray
        uint16, same shape as ``image``.
    black, white : float
        The lowest and highest finite valid value (the range mapped to 0..65535; all 0 when it is empty or flat).
    """
    img = np.asarray(image, dtype=np.float32)
    colour = img if img.ndim == 3 else img[..., None]
    mask = np.asarray(valid, dtype=bool) & np.all(np.isfinite(colour), axis=2)
    values = colour[mask]
    if values.size == 0 or not float(values.max()) > float(values.min()):
        return np.zeros(img.shape, dtype=np.uint16), 0.0, 0.0
    black, white = float(values.min()), float(values.max())
    scaled = (colour - np.float32(black)) * np.float32(_MAX16 / (white - black))
    pixels = np.where(mask[..., None], np.clip(np.rint(np.nan_to_num(scaled)), 0, _MAX16), 0).astype(np.uint16)
    return (pixels if img.ndim == 3 else pixels[..., 0]), black, white


def export_pixels(image: np.ndarray, valid: np.ndarray, *, stretch: bool = False) -> np.ndarray:
    """The uint16 pixels of an export, rows as in the FITS (not yet flipped): linear (:func:`quantise_linear`) or,
    with ``stretch``, the preview's stretch scaled to 0..65535."""
    if stretch:
        shown = stretch_for_display(image, valid=valid)
        return np.rint(shown * np.float32(_MAX16)).astype(np.uint16)
    return quantise_linear(image, valid)[0]


def write_png16(path: str | os.PathLike, pixels: np.ndarray) -> Path:
    """Write uint16 ``H x W`` (grey) or ``H x W x 3`` (RGB) pixels as a 16-bit sRGB PNG, atomically, row 0 at the
    top of the PNG (flip before calling to put the FITS row 0 at the bottom)."""
    px = np.asarray(pixels)
    if px.dtype != np.uint16 or px.ndim not in (2, 3) or (px.ndim == 3 and px.shape[2] != 3):
        raise ValueError(f"pixels must be uint16 H x W or H x W x 3, got {px.dtype} {px.shape}")
    height, width = px.shape[:2]
    colour_type = 2 if px.ndim == 3 else 0
    rows = np.ascontiguousarray(px, dtype=">u2").view(np.uint8).reshape(height, -1)
    raw = np.hstack([np.zeros((height, 1), dtype=np.uint8), rows])  # filter type 0 (none) on every row
    chunks = [
        _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)),
        _png_chunk(b"sRGB", bytes([0])),  # perceptual rendering intent
        _png_chunk(b"gAMA", struct.pack(">I", 45455)),  # the values the PNG specification gives with sRGB
        _png_chunk(b"cHRM", struct.pack(">8I", 31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000)),
        _png_chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)),
        _png_chunk(b"IEND", b""),
    ]
    with atomic_output(path) as handle:
        handle.write(b"\x89PNG\r\n\x1a\n" + b"".join(chunks))
    return Path(path)


def write_tiff16(path: str | os.PathLike, pixels: np.ndarray) -> Path:
    """Write uint16 ``H x W`` or ``H x W x 3`` pixels as an uncompressed 16-bit TIFF with an sRGB ICC profile,
    atomically (row 0 at the top, as :func:`write_png16`)."""
    import tifffile  # Pillow cannot write 16-bit RGB

    px = np.asarray(pixels)
    if px.dtype != np.uint16 or px.ndim not in (2, 3) or (px.ndim == 3 and px.shape[2] != 3):
        raise ValueError(f"pixels must be uint16 H x W or H x W x 3, got {px.dtype} {px.shape}")
    buffer = io.BytesIO()  # tifffile needs a named file or a buffer, not the atomic writer's bare descriptor
    tifffile.imwrite(buffer, np.ascontiguousarray(px), photometric="rgb" if px.ndim == 3 else "minisblack",
                     iccprofile=_srgb_icc_profile() if px.ndim == 3 else None, metadata=None, software="ZeMosaic")
    return atomic_write_bytes(path, buffer.getvalue())


def write_exports(out_dir: str | os.PathLike, image: np.ndarray, valid: np.ndarray, formats, *,
                  stretch: bool = False, stem: str = "mosaic") -> list[Path]:
    """Write ``OUT/<stem>.tif`` / ``.png`` for each of ``formats`` (``'tiff16'``, ``'png16'``), rows flipped as the
    preview's (first FITS row at the bottom).

    Raises
    ------
    ValueError
        An unknown format.
    """
    unknown = [f for f in formats if f not in EXPORT_SUFFIXES]
    if unknown:
        raise ValueError(f"unknown export format {unknown[0]!r}; expected one of {', '.join(EXPORT_SUFFIXES)}")
    if not formats:
        return []
    pixels = export_pixels(image, valid, stretch=stretch)[::-1]
    written = []
    for fmt in dict.fromkeys(formats):
        path = Path(out_dir) / f"{stem}{EXPORT_SUFFIXES[fmt]}"
        written.append(write_tiff16(path, pixels) if fmt == "tiff16" else write_png16(path, pixels))
        log.info("export written: %s (16-bit, %s)", path, "stretched" if stretch else "linear")
    return written


# ------------------------------------------------------------------------------------------------------------------
# private helpers

def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _srgb_icc_profile() -> bytes | None:
    """An sRGB ICC profile (Pillow's littleCMS), or None when Pillow was built without it (logged)."""
    try:
        from PIL import ImageCms
    except ImportError:
        log.warning("Pillow has no ImageCms (littleCMS): the TIFF export carries no ICC profile")
        return None
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
