"""Thumbnails of a written master tile for the window, as PNG bytes (computed in the run process, Qt-free).

The picture is the preview the pipeline writes for a mosaic (:func:`zemosaic.mosaic.preview.write_preview_png`:
stretched, transparent where ALPHA is 0); the ALPHA and COVERAGE overlays are RGBA pictures of the same size,
to be drawn over it: ALPHA in red where the tile is feathered out (opaque red = alpha 0), COVERAGE as a
blue (few frames) to yellow (most frames) ramp.
"""
from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from zemosaic.io.fits import read_fits_image
from zemosaic.mosaic.preview import write_preview_png

__all__ = ["TileThumbnails", "tile_thumbnails"]


@dataclass(frozen=True)
class TileThumbnails:
    """PNG bytes of a tile's picture and of its overlays (None when the tile has no such extension)."""

    image_png: bytes
    alpha_png: bytes | None
    coverage_png: bytes | None
    shape: tuple[int, ...]


def tile_thumbnails(path: str | Path, max_size: int = 320) -> TileThumbnails:
    """Read ``master_tile_NNN.fits`` and return its thumbnails (longest side at most ``max_size``)."""
    tile = read_fits_image(path)
    alpha = tile.extensions.get("ALPHA")
    coverage = tile.extensions.get("COVERAGE")
    with tempfile.TemporaryDirectory(prefix="zemosaic_thumb_") as tmp:
        png = write_preview_png(Path(tmp) / "tile.png", tile.data, alpha=alpha, max_size=max_size)
        image_png = png.read_bytes()
    size = Image.open(io.BytesIO(image_png)).size
    alpha_png = coverage_png = None
    if alpha is not None:
        a = np.clip(np.nan_to_num(np.asarray(alpha, dtype=np.float32)), 0.0, 1.0)
        rgba = np.zeros(a.shape + (4,), dtype=np.uint8)
        rgba[..., 0] = 255
        rgba[..., 3] = np.round((1.0 - a) * 220).astype(np.uint8)
        alpha_png = _png(rgba, size)
    if coverage is not None:
        c = np.nan_to_num(np.asarray(coverage, dtype=np.float32))
        top = float(c.max()) if c.size else 0.0
        t = c / top if top > 0 else np.zeros_like(c)
        rgba = np.zeros(c.shape + (4,), dtype=np.uint8)
        rgba[..., 0] = np.round(255 * t).astype(np.uint8)
        rgba[..., 1] = np.round(60 + 170 * t).astype(np.uint8)
        rgba[..., 2] = np.round(255 * (1.0 - t)).astype(np.uint8)
        rgba[..., 3] = np.where(c > 0, 110, 0).astype(np.uint8)  # the stars stay visible through it
        coverage_png = _png(rgba, size)
    return TileThumbnails(image_png, alpha_png, coverage_png, tuple(tile.data.shape))


def _png(rgba: np.ndarray, size: tuple[int, int]) -> bytes:
    """RGBA (first FITS row first) as a PNG of ``size``, rows flipped as the preview's are."""
    picture = Image.fromarray(np.ascontiguousarray(rgba[::-1])).resize(size, Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()
