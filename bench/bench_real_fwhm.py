"""Star FWHM of the master tiles and of the mosaic on real frames (issue 26 item 4), bilinear vs Lanczos-3.

The frames of INPUT (e.g. the public Seestar S50 samples of tinystork/zeseestarstacker, see the project's PEERS
notes; never committed) go through ``zemosaic run`` once (plate solving included); the mosaic is then assembled
again from the same master tiles with ``assembly_reproject=interp`` and ``lanczos3``.  Stars are detected on each
tile's green plane (local maxima above 30 sigma, no brighter peak within 12 px, away from saturation and from the
alpha-0 border), a circular Gaussian is fitted (``tests/measure.py``'s ``gaussian_fwhm``) in the tile and at the same
sky position in each mosaic; the script prints the medians and the median per-star ratio mosaic / tile.

Usage: ``python bench/bench_real_fwhm.py INPUT WORKDIR`` (a finished ``zemosaic run`` in ``WORKDIR/run`` is reused)
"""
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
import zemosaic_worker as worker  # noqa: E402
from measure import gaussian_fwhm  # noqa: E402
from zemosaic._stats import mad_sigma  # noqa: E402
from zemosaic.config import resolve_config  # noqa: E402
from zemosaic.io import fits as fits_io  # noqa: E402


def tile_stars(tile) -> tuple[np.ndarray, np.ndarray]:
    g = np.nan_to_num(tile.data[..., 1])
    sky = np.median(g)
    sigma = mad_sigma(g[np.isfinite(tile.data[..., 1])])
    peaks = (g == ndi.maximum_filter(g, 25)) & (g > sky + 30 * sigma) & (g < 0.8 * np.nanmax(g))
    deep = ndi.distance_transform_edt(tile.extensions.get("ALPHA", np.ones(g.shape)) > 0.99) > 12
    y, x = np.nonzero(peaks & deep)
    return x.astype(float), y.astype(float)


def main():
    inp, work = Path(sys.argv[1]), Path(sys.argv[2])
    tiles_dir = work / "run" / "master_tiles"
    if not tiles_dir.is_dir():  # a finished run in WORKDIR/run is reused
        worker.run_mosaic(inp, work / "run", resolve_config())
    tiles = [fits_io.read_fits_image(p) for p in sorted(tiles_dir.glob("master_tile_*.fits"))]
    for method in ("interp", "lanczos3"):
        result = worker.run_mosaic(tiles_dir, work / method, resolve_config(
            overrides=["use_existing_master_tiles_mode=true", f"assembly_reproject={method}"]))
        mosaic = fits_io.read_fits_image(result.mosaic_path)
        f_t, f_m = [], []
        for tile in tiles:
            x, y = tile_stars(tile)
            ft = gaussian_fwhm(tile.data[..., 1], x, y)
            mx, my = mosaic.wcs.all_world2pix(*tile.wcs.all_pix2world(x, y, 0), 0)
            fm = gaussian_fwhm(mosaic.data[..., 1], mx, my)
            ok = np.isfinite(ft) & np.isfinite(fm) & (ft > 1.0) & (ft < 8.0)
            f_t += list(ft[ok])
            f_m += list(fm[ok])
        f_t, f_m = np.array(f_t), np.array(f_m)
        print(f"{inp.name}: {len(tiles)} tile(s), {len(f_t)} stars; assembly_reproject={method}: median FWHM tile "
              f"{np.median(f_t):.3f} px, mosaic {np.median(f_m):.3f} px, per-star ratio {np.median(f_m / f_t):.3f}")


if __name__ == "__main__":
    main()
