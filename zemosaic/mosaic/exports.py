"""Image exports of a mosaic for image editors: ``mosaic.tif`` (``tiff16``), ``mosaic.png`` (``png16``) and
``mosaic_float32.tif`` (``tiff32``).

* Stretched (the pipeline's default, ``export_stretch=true``): the preview's automatic stretch
  (:func:`zemosaic.mosaic.preview.stretch_for_display`), tagged sRGB: an editor shows what the preview shows.
* Linear (``stretch=False``): black (0) at the lowest covered value, white (65535) at the highest, so the file holds
  the FITS values within one 16-bit step of that range (:func:`quantise_linear` says exactly how), tagged with a
  *linear* RGB ICC profile (sRGB primaries, gamma 1.0: :func:`linear_icc_profile`) so that a colour-managed editor
  displays it as light, not as sRGB-encoded values (which look black).
* ``tiff32``: float32 RGB in [0, 1], always linear (black..white as above), with the linear profile: for editors
  that edit in 32-bit float.
* Alpha: with ``alpha`` given (the pipeline passes ``WEIGHT > 0``), a fourth channel, opaque where the mosaic holds
  data and transparent elsewhere (uncovered pixels are also 0).
* TIFFs are deflate-compressed (``ADOBE_DEFLATE``), PNGs zlib-compressed as the format is.
* Rows flipped as the preview is: the first FITS row at the bottom, as Siril and DS9 show the FITS.
* Pillow cannot write 16-bit-per-channel RGB (it has no such image mode), so the TIFFs are written with ``tifffile``
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

from zemosaic._pixels import finite_in_every_channel
from zemosaic.io.atomic import atomic_output, atomic_write_bytes
from zemosaic.mosaic.preview import stretch_for_display

__all__ = [
    "EXPORT_SUFFIXES",
    "quantise_linear",
    "export_pixels",
    "linear_icc_profile",
    "write_png16",
    "write_tiff16",
    "write_tiff32",
    "write_exports",
]

log = logging.getLogger(__name__)

EXPORT_SUFFIXES = {"tiff16": ".tif", "png16": ".png", "tiff32": "_float32.tif"}
"""File name ending of each export format (``OUT/mosaic<suffix>``)."""
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
    mask = np.asarray(valid, dtype=bool) & finite_in_every_channel(colour)
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


def write_png16(path: str | os.PathLike, pixels: np.ndarray, *, linear: bool = False) -> Path:
    """Write uint16 ``H x W`` (grey), ``H x W x 2`` (grey + alpha), ``H x W x 3`` (RGB) or ``H x W x 4`` (RGBA)
    pixels as a 16-bit PNG, atomically, row 0 at the top of the PNG (flip before calling to put the FITS row 0 at the
    bottom).  Tagged sRGB, or with ``linear`` the linear ICC profile (``iCCP``, RGB only) and ``gAMA`` 1.0."""
    px = np.asarray(pixels)
    if px.dtype != np.uint16 or px.ndim not in (2, 3) or (px.ndim == 3 and px.shape[2] not in (2, 3, 4)):
        raise ValueError(f"pixels must be uint16 H x W or H x W x 2/3/4, got {px.dtype} {px.shape}")
    height, width = px.shape[:2]
    colour_type = {2: 0, 3: {2: 4, 3: 2, 4: 6}[px.shape[2]] if px.ndim == 3 else 0}[px.ndim]
    rows = np.ascontiguousarray(px, dtype=">u2").view(np.uint8).reshape(height, -1)
    raw = np.hstack([np.zeros((height, 1), dtype=np.uint8), rows])  # filter type 0 (none) on every row
    chunks = [_png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0))]
    if linear:
        if colour_type in (2, 6):
            chunks.append(_png_chunk(b"iCCP", b"linear RGB\x00\x00" + zlib.compress(linear_icc_profile())))
        chunks.append(_png_chunk(b"gAMA", struct.pack(">I", 100000)))  # gamma 1.0
    else:
        chunks += [_png_chunk(b"sRGB", bytes([0])),  # perceptual rendering intent
                   _png_chunk(b"gAMA", struct.pack(">I", 45455))]  # the values the PNG specification pairs with sRGB
    chunks += [
        _png_chunk(b"cHRM", struct.pack(">8I", 31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000)),
        _png_chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)),
        _png_chunk(b"IEND", b""),
    ]
    with atomic_output(path) as handle:
        handle.write(b"\x89PNG\r\n\x1a\n" + b"".join(chunks))
    return Path(path)


def write_tiff16(path: str | os.PathLike, pixels: np.ndarray, *, linear: bool = False) -> Path:
    """Write uint16 ``H x W`` (grey), ``H x W x 3`` (RGB) or ``H x W x 4`` (RGB + unassociated alpha) pixels as a
    deflate-compressed 16-bit TIFF with an sRGB ICC profile (the linear profile with ``linear``), atomically (row 0
    at the top, as :func:`write_png16`)."""
    px = np.asarray(pixels)
    if px.dtype != np.uint16 or px.ndim not in (2, 3) or (px.ndim == 3 and px.shape[2] not in (3, 4)):
        raise ValueError(f"pixels must be uint16 H x W or H x W x 3/4, got {px.dtype} {px.shape}")
    return _write_tiff(path, px, linear=linear)


def write_tiff32(path: str | os.PathLike, pixels: np.ndarray) -> Path:
    """Write float32 ``H x W``, ``H x W x 3`` or ``H x W x 4`` (RGB + alpha) pixels in [0, 1] as a
    deflate-compressed 32-bit float TIFF with the linear ICC profile, atomically."""
    px = np.asarray(pixels)
    if px.dtype != np.float32 or px.ndim not in (2, 3) or (px.ndim == 3 and px.shape[2] not in (3, 4)):
        raise ValueError(f"pixels must be float32 H x W or H x W x 3/4, got {px.dtype} {px.shape}")
    return _write_tiff(path, px, linear=True)


def write_exports(out_dir: str | os.PathLike, image: np.ndarray, valid: np.ndarray, formats, *,
                  stretch: bool = False, stem: str = "mosaic", alpha: np.ndarray | None = None) -> list[Path]:
    """Write ``OUT/<stem>.tif`` / ``.png`` / ``_float32.tif`` for each of ``formats`` (``'tiff16'``, ``'png16'``,
    ``'tiff32'``), rows flipped as the preview's (first FITS row at the bottom).

    Parameters
    ----------
    image : numpy.ndarray
        ``H x W`` or ``H x W x 3`` float.
    valid : numpy.ndarray of bool
        ``H x W``: pixels holding data (the others are 0).
    formats : sequence of str
    stretch : bool
        The preview's stretch (sRGB-tagged) for the 16-bit files; linear with the linear profile otherwise.
        ``tiff32`` is always linear.
    stem : str
    alpha : numpy.ndarray, optional
        ``H x W`` in [0, 1]: written as an extra (unassociated) alpha channel in every file.

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
    written = []
    for fmt in dict.fromkeys(formats):
        path = Path(out_dir) / f"{stem}{EXPORT_SUFFIXES[fmt]}"
        if fmt == "tiff32":
            written.append(write_tiff32(path, _with_alpha(_linear_float(image, valid), alpha)[::-1]))
        else:
            pixels = _with_alpha(export_pixels(image, valid, stretch=stretch), alpha)[::-1]
            writer = write_tiff16 if fmt == "tiff16" else write_png16
            written.append(writer(path, pixels, linear=not stretch))
        log.info("export written: %s (%s, %s%s)", path, "32-bit float" if fmt == "tiff32" else "16-bit",
                 "stretched, sRGB" if stretch and fmt != "tiff32" else "linear, linear ICC profile",
                 ", alpha" if alpha is not None else "")
    return written


def linear_icc_profile() -> bytes:
    """An ICC v2 RGB display profile with the sRGB primaries and D65 white (adapted to D50, as ICC wants) and a
    gamma-1.0 tone curve on every channel: the profile of linear light, built here byte by byte."""
    text = b"Linear sRGB primaries, gamma 1.0 (ZeMosaic)"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(text) + 1) + text + b"\0" + bytes(4 + 4 + 2 + 1 + 67)
    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, 0x0100) + bytes(2)  # one entry: gamma 1.0 (u8Fixed8)
    tags = [(b"desc", desc), (b"cprt", b"text" + bytes(4) + b"No copyright, use freely\0"),
            (b"wtpt", _icc_xyz(*_D50)), (b"rXYZ", _icc_xyz(0.436066, 0.222488, 0.013916)),
            (b"gXYZ", _icc_xyz(0.385147, 0.716873, 0.097076)), (b"bXYZ", _icc_xyz(0.143066, 0.060608, 0.714096)),
            (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve)]
    offset = 128 + 4 + 12 * len(tags)
    table, blob = b"", b""
    for signature, data in tags:
        data += bytes(-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(blob), len(data))
        blob += data
    header = (struct.pack(">I", offset + len(blob)) + bytes(4) + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
              + bytes(12) + b"acsp" + bytes(24) + struct.pack(">I", 0) + b"".join(_s15(v) for v in _D50) + bytes(48))
    return header + struct.pack(">I", len(tags)) + table + blob


# ------------------------------------------------------------------------------------------------------------------
# private helpers

_D50 = (0.9642, 1.0, 0.8249)


def _s15(value: float) -> bytes:
    return struct.pack(">i", int(round(value * 65536)))


def _icc_xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + bytes(4) + _s15(x) + _s15(y) + _s15(z)


def _linear_float(image: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """float32 in [0, 1]: black at the lowest covered value, white at the highest (0 where not valid)."""
    img = np.asarray(image, dtype=np.float32)
    colour = img if img.ndim == 3 else img[..., None]
    mask = np.asarray(valid, dtype=bool) & finite_in_every_channel(colour)
    values = colour[mask]
    out = np.zeros(colour.shape, dtype=np.float32)
    if values.size and float(values.max()) > float(values.min()):
        black, white = float(values.min()), float(values.max())
        out[mask] = np.clip((values - np.float32(black)) / np.float32(white - black), 0.0, 1.0)
    return out if img.ndim == 3 else out[..., 0]


def _with_alpha(pixels: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """``pixels`` with ``alpha`` (``H x W`` in [0, 1]) as a last channel, in the pixels' scale (65535 or 1.0)."""
    if alpha is None:
        return pixels
    full = 1.0 if pixels.dtype == np.float32 else _MAX16
    a = np.clip(np.asarray(alpha, dtype=np.float32), 0.0, 1.0) * np.float32(full)
    a = a.astype(np.float32) if pixels.dtype == np.float32 else np.rint(a).astype(pixels.dtype)
    colour = pixels if pixels.ndim == 3 else pixels[..., None]
    return np.concatenate([colour, a[..., None]], axis=2)


def _write_tiff(path: str | os.PathLike, px: np.ndarray, *, linear: bool) -> Path:
    import tifffile  # Pillow cannot write 16-bit RGB

    rgb = px.ndim == 3 and px.shape[2] >= 3
    profile = linear_icc_profile() if linear else _srgb_icc_profile()
    buffer = io.BytesIO()  # tifffile needs a named file or a buffer, not the atomic writer's bare descriptor
    tifffile.imwrite(buffer, np.ascontiguousarray(px), photometric="rgb" if rgb else "minisblack",
                     extrasamples=["unassalpha"] if px.ndim == 3 and px.shape[2] in (2, 4) else None,
                     compression="zlib", iccprofile=profile if rgb else None, metadata=None, software="ZeMosaic")
    return atomic_write_bytes(path, buffer.getvalue())


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
