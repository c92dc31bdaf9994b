"""The three ways to build a mosaic side by side (issue 28): master tiles, GRID and SDS, on generated sets.

For each scene the frames are generated once, then ``zemosaic run --mode tiles|grid|sds`` runs in a child process
(wall time and peak RSS of that process, from ``os.wait4``) and its mosaic is measured against the generator's truth:

* **astrometry**: RMS distance (px) between the centroids of bright isolated catalogue stars and their catalogue
  positions through the mosaic's WCS (stars whose 31 px box is covered; a centroid > 3 px away is a blend, counted
  apart);
* **photometry**: robust scatter (1.4826 MAD / median) of aperture flux / catalogue flux over the same stars;
* **worst seam**: :func:`zemosaic.mosaic.seam_step_sigma` across the edges of the master tiles of the tiles run
  (the panels) measured on each mode's mosaic, plus, for GRID, across its own grid tiles;
* **sky left**: ``tests/sky_truth.py``'s large-scale residual (98-2 % of the 64 px-smoothed residual after one gain
  and offset per channel), mean over R, G, B;
* **noise in overlaps**: robust sigma of the residual minus its 15 px box mean (star-masked), G channel, over the
  pixels that frames of two panels or more cover (from the frames' true WCS), and the expected SDS/tiles ratio
  ``sqrt(N_tiles / N_sds)``: ``N_sds`` the frames stacked there (SDS WEIGHT), ``N_tiles`` the effective frame count
  of the tiles mosaic, ``(sum w)^2 / sum(w^2 / C)`` over the master tiles (``w = ALPHA x NFRAMES``, ``C`` their
  COVERAGE).

Scenes: ``altaz2x2`` (the demo: 2x2 Alt-Az panels, 10 frames each, 540 x 960, 25 deg field rotation),
``eq3x1`` (3x1 equatorial panels, no rotation), ``straddle`` (2x2 Alt-Az with dithers of 160 px, a third of the
frame's width: frames straddle the panel borders).

Usage: ``python bench/bench_modes.py [--scenes altaz2x2,eq3x1,straddle] [--modes tiles,grid,sds] [--keep DIR]``
"""
import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
import sky_truth  # noqa: E402
from measure import aperture_flux, catalogue_pixels, refine_centroids  # noqa: E402
from zemosaic.io import fits as fits_io  # noqa: E402
from zemosaic.mosaic import GlobalGrid, discover_master_tiles, seam_step_sigma  # noqa: E402
from zemosaic.mosaic.resample import footprint_window, reproject_planes  # noqa: E402
from zemosaic.synthetic import generator as synthetic  # noqa: E402
from zemosaic.synthetic.demo import demo_spec  # noqa: E402

DEMO = demo_spec(1)
SCENES = {
    "altaz2x2": DEMO,
    "eq3x1": dataclasses.replace(DEMO, panels=(3, 1), mount="equatorial", rotation_drift_deg=0.0, seed=2),
    "straddle": dataclasses.replace(DEMO, dither_px=160.0, seed=3),
    "tiny": synthetic.SynthSpec(panels=(2, 1), overlap=0.35, frames_per_panel=4, width=240, height=360,
                                pixel_scale_arcsec=4.8, rotation_drift_deg=20.0, seed=11),  # a quick check
}


def run_child(inp: Path, out: Path, mode: str, extra) -> dict:
    """``zemosaic run`` in a child process: wall seconds and peak RSS (MB)."""
    cmd = [sys.executable, "-m", "zemosaic.cli", "run", str(inp), "-o", str(out), "--mode", mode, "--overwrite",
           *[a for kv in extra for a in ("--set", kv)]]
    env = dict(os.environ, PYTHONPATH=str(ROOT), ZEMOSAIC_NUMBA_WARMUP="0")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if status != 0:
        raise RuntimeError(f"{mode} run failed ({status}): {err[-2000:]}")
    return {"wall_s": wall, "rss_mb": usage.ru_maxrss / 1024.0, "cpu_s": usage.ru_utime + usage.ru_stime}


def star_figures(dataset, mosaic) -> dict:
    x, y, flux = catalogue_pixels(dataset.catalogue, mosaic.wcs, mosaic.data.shape[:2], max_peak=30000,
                                  n_brightest=40)
    covered = ndi.minimum_filter(np.isfinite(mosaic.data).all(axis=-1).astype(np.uint8), size=31) > 0
    inside = covered[np.round(y).astype(int), np.round(x).astype(int)]
    x, y, flux = x[inside], y[inside], flux[inside]
    mx, my = refine_centroids(np.nan_to_num(mosaic.data[..., 1]), x, y)
    dist = np.hypot(mx - x, my - y)
    ok = np.isfinite(dist) & (dist < 3.0)
    ratio = aperture_flux(mosaic.data[..., 1], x, y) / flux
    good = ratio[ok & np.isfinite(ratio)]
    centre = float(np.median(good))
    return {"n_stars": int(ok.sum()), "blends": int(np.count_nonzero(np.isfinite(dist) & ~ok)),
            "astrometry_rms_px": float(np.sqrt(np.mean(dist[ok] ** 2))),
            "photometric_scatter": float(1.4826 * np.median(np.abs(good - centre)) / centre)}


def panel_overlap(dataset, mosaic, step: int = 4) -> np.ndarray:
    """(H, W) bool: pixels that frames of two panels or more cover (true WCS, sampled every ``step`` px)."""
    h, w = mosaic.data.shape[:2]
    ys, xs = np.mgrid[0:h:step, 0:w:step]
    ra, dec = mosaic.wcs.all_pix2world(xs, ys, 0)
    panels = {}
    for fr in dataset.frames:
        fx, fy = fr.wcs.all_world2pix(ra, dec, 0)
        fh, fw = dataset.spec.height, dataset.spec.width
        inside = (fx > 5) & (fy > 5) & (fx < fw - 6) & (fy < fh - 6)
        panels[fr.panel] = panels.get(fr.panel, False) | inside
    count = sum(p.astype(int) for p in panels.values())
    small = count >= 2
    return np.kron(small, np.ones((step, step), bool))[:h, :w]


def noise_in(data, truth, nebula, region) -> float:
    residual, m = sky_truth.residual_after_gain_offset(data, truth, nebula)
    r = residual[..., 1]
    use = m["use"] & m["inner"] & region
    hp = r - sky_truth.smooth(r, m["use"], 15)
    vals = hp[use]
    return float(1.4826 * np.median(np.abs(vals - np.median(vals)))) if vals.size > 100 else float("nan")


def tiles_effective_frames(tiles_dir: Path, grid: GlobalGrid) -> np.ndarray:
    """Per pixel of ``grid``: ``(sum w)^2 / sum(w^2 / C)`` over the master tiles (see the module docstring)."""
    sum_w = np.zeros(grid.shape)
    sum_w2c = np.zeros(grid.shape)
    for path in sorted(tiles_dir.glob("master_tile_*.fits")):
        tile = fits_io.read_fits_image(path)
        alpha, cov = tile.extensions["ALPHA"], tile.extensions["COVERAGE"]
        n = float(np.nanmax(cov))
        weight = np.nan_to_num(alpha) * n
        planes = np.stack([weight, weight * np.nan_to_num(cov)], axis=2).astype(np.float32)
        window = footprint_window(tile.wcs, alpha.shape, grid)
        out = reproject_planes(planes, tile.wcs, grid, window, "interp")
        y0, y1, x0, x1 = window
        w = out[..., 0]
        c = np.divide(out[..., 1], w, out=np.zeros_like(w), where=w > 1e-6)
        sum_w[y0:y1, x0:x1] += w
        sum_w2c[y0:y1, x0:x1] += np.divide(w * w, c, out=np.zeros_like(w), where=c > 0.5)
    return np.divide(sum_w ** 2, sum_w2c, out=np.zeros_like(sum_w), where=sum_w2c > 0)


def measure(scene: str, modes, work: Path, extra) -> dict:
    spec = SCENES[scene]
    inp = work / scene / "in"
    dataset = synthetic.generate_dataset(inp, spec)
    rows = {}
    for mode in modes:
        out = work / scene / mode
        rows[mode] = run_child(inp, out, mode, extra)
    tiles, _ = discover_master_tiles(work / scene / "tiles" / "master_tiles") if "tiles" in modes else ([], [])
    for mode in modes:
        out = work / scene / mode
        mosaic = fits_io.read_fits_image(out / "mosaic.fits")
        data = np.asarray(mosaic.data, np.float64)
        grid = GlobalGrid(mosaic.wcs, data.shape[:2])
        truth = np.asarray(dataset.scene.render(mosaic.wcs, data.shape[:2]), np.float64)
        nebula = np.asarray(dataset.scene.render(mosaic.wcs, data.shape[:2], stars=False), np.float64)
        overlap = panel_overlap(dataset, mosaic)
        row = rows[mode]
        row.update(star_figures(dataset, mosaic))
        row["seam_panels_sigma"] = seam_step_sigma(mosaic.data, tiles, grid) if tiles else float("nan")
        if mode == "grid":
            own, _ = discover_master_tiles(out / "master_tiles")
            row["seam_grid_tiles_sigma"] = seam_step_sigma(mosaic.data, own, grid)
        row["sky_left"] = float(np.mean(sky_truth.sky_left(data, truth, nebula)))
        row["noise_overlap"] = noise_in(data, truth, nebula, overlap)
        weight = mosaic.extensions["WEIGHT"]
        row["frames_overlap"] = float(np.median(weight[overlap & (weight > 0)]))
        if mode == "tiles":
            row["frames_overlap"] = float(np.median(tiles_effective_frames(out / "master_tiles", grid)[
                overlap & (weight > 0)]))
        report = json.loads((out / "run_report.json").read_text())
        row["mode_run"] = report["mode"]
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenes", default="altaz2x2,eq3x1,straddle")
    ap.add_argument("--modes", default="tiles,grid,sds")
    ap.add_argument("--set", action="append", default=[], help="extra KEY=VALUE for every run")
    ap.add_argument("--keep", type=Path, help="keep the runs in this folder")
    args = ap.parse_args()
    modes = args.modes.split(",")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        for scene in args.scenes.split(","):
            rows = measure(scene, modes, work, args.set)
            print(f"\n== {scene}")
            print(f"{'mode':6s} {'wall s':>7s} {'RSS MB':>7s} {'stars':>5s} {'astrom px':>9s} {'phot':>6s} "
                  f"{'seam sig':>8s} {'sky ADU':>7s} {'noise ov':>8s} {'frames ov':>9s}")
            for mode, r in rows.items():
                extra = f"  (own grid tiles seam {r['seam_grid_tiles_sigma']:.2f})" if "seam_grid_tiles_sigma" in r \
                    else ""
                print(f"{mode:6s} {r['wall_s']:7.1f} {r['rss_mb']:7.0f} {r['n_stars']:5d} "
                      f"{r['astrometry_rms_px']:9.3f} {r['photometric_scatter']:6.4f} {r['seam_panels_sigma']:8.2f} "
                      f"{r['sky_left']:7.2f} {r['noise_overlap']:8.3f} {r['frames_overlap']:9.1f}{extra}")
            if "tiles" in rows and "sds" in rows:
                t, s = rows["tiles"], rows["sds"]
                print(f"SDS / tiles noise in overlaps: measured {s['noise_overlap'] / t['noise_overlap']:.3f}, "
                      f"expected sqrt(N_tiles / N_sds) = {np.sqrt(t['frames_overlap'] / s['frames_overlap']):.3f}; "
                      f"wall ratio {s['wall_s'] / t['wall_s']:.2f}, GRID/tiles "
                      f"{rows.get('grid', t)['wall_s'] / t['wall_s']:.2f}")
            print(json.dumps({m: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}
                              for m, r in rows.items()}))


if __name__ == "__main__":
    main()
