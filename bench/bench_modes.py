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
* **noise in overlaps** (``tests/mode_noise.py``): GRID's and SDS's noise over master tiles' where frames of two
  panels or more land, from the sigma of 4 x 4 block means of the residual (resampling smooths pixels, not block
  means), measured against the expected ``sqrt(mean(1/N_mode) / mean(1/N_tiles))`` (``N_mode`` the mode's WEIGHT,
  ``N_tiles`` the effective frame count of the master tiles' weighted co-addition); over the whole overlaps
  ("all") and where the mode stacks at least 1.3 x the frames the tiles keep ("gain").

Scenes: ``altaz2x2`` (the demo: 2x2 Alt-Az panels, 10 frames each, 540 x 960, 25 deg field rotation),
``eq3x1`` (3x1 equatorial panels, no rotation), ``straddle`` (the set of ``tests/pipeline/test_modes_sds_gain.py``:
1x2 Alt-Az panels overlapping by 10 %, 6 frames each, 240 x 360, dithers of 70 px: frames straddle the panel
border, and master tiles drop the edges their coverage is too low to keep).

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
import mode_noise  # noqa: E402
import sky_truth  # noqa: E402
from measure import aperture_flux, catalogue_pixels, refine_centroids  # noqa: E402
from zemosaic.io import fits as fits_io  # noqa: E402
from zemosaic.mosaic import GlobalGrid, discover_master_tiles, seam_step_sigma  # noqa: E402
from zemosaic.synthetic import generator as synthetic  # noqa: E402
from zemosaic.synthetic.demo import demo_spec  # noqa: E402

DEMO = demo_spec(1)
SCENES = {
    "altaz2x2": DEMO,
    "eq3x1": dataclasses.replace(DEMO, panels=(3, 1), mount="equatorial", rotation_drift_deg=0.0, seed=2),
    "straddle": synthetic.SynthSpec(panels=(1, 2), frames_per_panel=6, width=240, height=360,
                                    pixel_scale_arcsec=4.8, seed=7, overlap=0.1, dither_px=70.0),
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
        row = rows[mode]
        row.update(star_figures(dataset, mosaic))
        row["seam_panels_sigma"] = seam_step_sigma(mosaic.data, tiles, grid) if tiles else float("nan")
        if mode == "grid":
            own, _ = discover_master_tiles(out / "master_tiles")
            row["seam_grid_tiles_sigma"] = seam_step_sigma(mosaic.data, own, grid)
        row["sky_left"] = float(np.mean(sky_truth.sky_left(data, truth, nebula)))
        if mode != "tiles" and "tiles" in modes:
            for key, least in (("all", 0.0), ("gain", 1.3)):
                g = mode_noise.overlap_gain(dataset, out, work / scene / "tiles", min_gain=least)
                row[f"noise_{key}"] = {"blocks": g.blocks, "frames": round(g.frames_sds, 1),
                                       "frames_tiles": round(g.frames_tiles, 1), "noise": round(g.noise_sds, 3),
                                       "noise_tiles": round(g.noise_tiles, 3), "measured": round(g.measured, 3),
                                       "expected": round(g.expected, 3)}
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
            print(f"{'mode':6s} {'wall s':>7s} {'CPU s':>6s} {'RSS MB':>7s} {'stars':>5s} {'astrom px':>9s} "
                  f"{'phot':>6s} {'seam sig':>8s} {'sky ADU':>7s}")
            for mode, r in rows.items():
                extra = f"  (own grid tiles seam {r['seam_grid_tiles_sigma']:.2f})" if "seam_grid_tiles_sigma" in r \
                    else ""
                print(f"{mode:6s} {r['wall_s']:7.1f} {r['cpu_s']:6.1f} {r['rss_mb']:7.0f} {r['n_stars']:5d} "
                      f"{r['astrometry_rms_px']:9.3f} {r['photometric_scatter']:6.4f} {r['seam_panels_sigma']:8.2f} "
                      f"{r['sky_left']:7.2f}{extra}")
            for mode, r in rows.items():
                for key in ("all", "gain"):
                    if f"noise_{key}" in r:
                        n = r[f"noise_{key}"]
                        print(f"{mode} / tiles noise in overlaps ({key}, {n['blocks']} blocks): frames "
                              f"{n['frames']} vs {n['frames_tiles']}, noise {n['noise']} vs {n['noise_tiles']}: "
                              f"measured {n['measured']}, expected {n['expected']}")
                if mode != "tiles" and "tiles" in rows:
                    print(f"{mode} / tiles wall time {r['wall_s'] / rows['tiles']['wall_s']:.2f}, CPU "
                          f"{r['cpu_s'] / rows['tiles']['cpu_s']:.2f}")
            print(json.dumps({m: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}
                              for m, r in rows.items()}))


if __name__ == "__main__":
    main()
