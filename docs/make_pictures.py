"""Make the documentation's pictures from a ``zemosaic demo`` folder (small PNGs under ``docs/_static/``).

    python docs/make_pictures.py                     # runs `zemosaic demo` into a temporary folder first
    python docs/make_pictures.py --demo zemosaic_demo  # or uses a demo folder already built

Writes ``demo_preview.jpg`` (the demo mosaic's preview, 480 px wide, uncovered area black) and ``master_tile.jpg``
(one master tile of the demo: the stacked image with the preview's stretch, its COVERAGE map and its ALPHA mask, side
by side, each 240 px wide), JPEG files of a few tens of kB. Nothing here runs at build time: the demo takes about a
minute, so the pictures are made once and kept.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from astropy.io import fits
from PIL import Image

STATIC = Path(__file__).resolve().parent / "_static"


def grey(values: np.ndarray, top: float) -> Image.Image:
    """A float map in [0, top] as an 8-bit grey image, first FITS row at the bottom (as the preview)."""
    scaled = np.clip(np.nan_to_num(values / max(top, 1e-12)), 0.0, 1.0)
    return Image.fromarray((scaled[::-1] * 255).round().astype(np.uint8), "L").convert("RGB")


def master_tile_picture(path: Path, width: int) -> Image.Image:
    """Stacked image (stretched), COVERAGE and ALPHA of one master tile, side by side."""
    from zemosaic.mosaic.preview import stretch_for_display

    with fits.open(path) as hdul:
        data = np.moveaxis(hdul[0].data.astype(np.float32), 0, -1)
        coverage = hdul["COVERAGE"].data.astype(np.float32)
        alpha = hdul["ALPHA"].data.astype(np.float32)
    image = Image.fromarray((stretch_for_display(data)[::-1] * 255).round().astype(np.uint8), "RGB")
    panels = [image, grey(coverage, float(np.nanmax(coverage))), grey(alpha, 1.0)]
    height = round(width * data.shape[0] / data.shape[1])
    out = Image.new("RGB", (3 * width + 2 * 8, height), "white")
    for k, panel in enumerate(panels):
        out.paste(panel.resize((width, height), Image.Resampling.LANCZOS), (k * (width + 8), 0))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, help="a folder made by `zemosaic demo` (default: build one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="zemosaic_docs_") as tmp:
        demo = args.demo
        if demo is None:
            demo = Path(tmp) / "demo"
            subprocess.run([sys.executable, "-m", "zemosaic", "demo", "-o", str(demo)], check=True)
        out = demo / "output"
        STATIC.mkdir(exist_ok=True)
        preview = Image.open(out / "mosaic_preview.png").convert("RGBA")
        preview.thumbnail((480, 480 * preview.height // preview.width), Image.Resampling.LANCZOS)
        on_black = Image.new("RGB", preview.size, "black")
        on_black.paste(preview, mask=preview.getchannel("A"))
        on_black.save(STATIC / "demo_preview.jpg", quality=85, optimize=True)
        master_tile_picture(out / "master_tiles" / "master_tile_000.fits", 240).save(STATIC / "master_tile.jpg",
                                                                                      quality=85, optimize=True)
    for name in ("demo_preview.jpg", "master_tile.jpg"):
        print(f"{STATIC / name}: {(STATIC / name).stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
