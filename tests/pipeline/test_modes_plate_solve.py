"""GRID and SDS on Seestar-like frames WITHOUT a WCS: Phase 1b solves them, then the mode stacks them on the grid.

The two runs share one plate-solution cache (``wcs_cache_dir``): the first solves the frames, the second takes
their solutions from the cache (Phase 1b is the same code in every mode), so both modes are checked on WCS-less
frames for the price of one solve."""
from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import ndimage as ndi

from measure import catalogue_pixels, refine_centroids
from zemosaic.config import resolve_config
from zemosaic.io import fits as fits_io
from zemosaic.pipeline.run import run_mosaic
from zemosaic.solve.index_catalogue import find_index_files
from zemosaic.synthetic import generator as synthetic

pytestmark = pytest.mark.skipif(not find_index_files(), reason="no astrometry.net index files installed")

SPEC = synthetic.SynthSpec(panels=(2, 1), frames_per_panel=3, width=540, height=960, pixel_scale_arcsec=4.8,
                           rotation_drift_deg=20.0, seed=5, real_stars="auto", hint_error_arcmin=6.0,
                           nebula=False, header_wcs=False)


@pytest.fixture(scope="module")
def wcs_less(tmp_path_factory):
    root = tmp_path_factory.mktemp("wcs_less")
    return synthetic.generate_dataset(root / "in", SPEC), root


@pytest.mark.parametrize("mode", ["sds", "grid"])
def test_wcs_less_frames_are_solved_then_stacked(mode, wcs_less):
    dataset, root = wcs_less
    result = run_mosaic(root / "in", root / mode, resolve_config(overrides=[
        f"mode={mode}", f"wcs_cache_dir={root / 'wcs_cache'}"]))
    report = json.loads(result.report_path.read_text())
    assert report["mode"] == mode and result.n_frames_used == 6
    assert report["astrometry"]["frames"] and all(r["source"] != "header" for r in report["astrometry"]["frames"])
    mosaic = fits_io.read_fits_image(result.mosaic_path)
    x, y, _ = catalogue_pixels(dataset.catalogue, mosaic.wcs, mosaic.data.shape[:2], max_peak=30000, n_brightest=40)
    covered = ndi.minimum_filter(np.isfinite(mosaic.data).all(axis=-1).astype(np.uint8), size=31) > 0
    inside = covered[np.round(y).astype(int), np.round(x).astype(int)]
    mx, my = refine_centroids(np.nan_to_num(mosaic.data[..., 1]), x[inside], y[inside])
    dist = np.hypot(mx - x[inside], my - y[inside])
    ok = np.isfinite(dist) & (dist < 3.0)
    rms = float(np.sqrt(np.mean(dist[ok] ** 2)))
    print(f"{mode}: {ok.sum()} stars, astrometry RMS {rms:.3f} px after plate solving")
    assert ok.sum() >= 20 and rms < 0.5
