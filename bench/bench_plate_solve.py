"""Benchmark: a whole run on WCS-less Seestar frames against the same frames with a header WCS, same run.

One synthetic 2x2 Alt-Az session of Seestar-sized frames (1080 x 1920 GRBG, 2.4"/px, real Tycho-2 stars of the
installed astrometry.net index files) is written twice: with header WCSs, and with only the Seestar hints (RA/DEC
5' off, FOCALLEN, XPIXSZ). Three runs, timed as whole ``run_mosaic`` calls:

* ``header``        frames with a header WCS (no plate solving: the reference);
* ``solve/field``   WCS-less frames, one plate solve per field, the other frames registered to it
                    (``solve_strategy=per_field``; what ``auto`` does with solve-field or ASTAP);
* ``solve/every``   WCS-less frames, every frame plate-solved on its own from its half-resolution stars
                    (``solve_strategy=every_frame``; what ``auto`` does with the in-process solver).

Prints the wall time of each run, the Phase 1b (WCS) time, the number of solves, the solve time per solved
frame and per tile, the astrometric error of each mosaic against the catalogue, and the ratios to ``header``
(target for ``solve/field``: at most 1.3). Usage::

    python bench/bench_plate_solve.py [--quick] [--frames N] [--solver auto|astrometry|solve-field]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from measure import catalogue_pixels, refine_centroids  # noqa: E402
from zemosaic.config import resolve_config  # noqa: E402
from zemosaic.io import fits as fits_io  # noqa: E402
from zemosaic.pipeline.run import run_mosaic  # noqa: E402
from zemosaic.synthetic import generator as synthetic  # noqa: E402


def astrometry_rms(catalogue, mosaic_path: Path) -> float:
    mosaic = fits_io.read_fits_image(mosaic_path)
    x, y, _ = catalogue_pixels(catalogue, mosaic.wcs, mosaic.data.shape[:2], max_peak=30000, n_brightest=80)
    mx, my = refine_centroids(np.nan_to_num(mosaic.data[..., 1]), x, y)
    ok = np.isfinite(mx)
    return float(np.sqrt(np.mean((mx[ok] - x[ok]) ** 2 + (my[ok] - y[ok]) ** 2)))


def timed_run(inp: Path, out: Path, overrides: dict, catalogue) -> dict:
    t0 = time.perf_counter()
    result = run_mosaic(inp, out, resolve_config(overrides=overrides))
    wall = time.perf_counter() - t0
    report = json.loads(result.report_path.read_text())
    astro = report.get("astrometry") or {}
    solved = [r for r in astro.get("frames", []) if r["source"] == "solved"]
    return {"wall_s": wall, "wcs_s": report["phase_timings_s"].get("1b_wcs", 0.0),
            "n_solves": astro.get("n_solves", 0), "solve_s_per_frame": float(np.mean([r["time_s"] for r in solved]))
            if solved else 0.0, "tiles": result.n_tiles, "rms_px": astrometry_rms(catalogue, result.mosaic_path)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 frames per panel")
    parser.add_argument("--frames", type=int, default=None, help="frames per panel (default 10, quick 4)")
    parser.add_argument("--solver", default="auto", help="plate_solver for the solving runs")
    args = parser.parse_args(argv)
    n = args.frames or (4 if args.quick else 10)
    spec = synthetic.SynthSpec(panels=(2, 2), frames_per_panel=n, seed=3, real_stars="auto", hint_error_arcmin=5.0)
    with tempfile.TemporaryDirectory(prefix="zemosaic_bench_solve_") as tmp:
        root = Path(tmp)
        print(f"generating 2 x {4 * n} Seestar frames (1080 x 1920) ...", flush=True)
        with_wcs = synthetic.generate_dataset(root / "with_wcs", spec)
        synthetic.generate_dataset(root / "no_wcs", dataclasses.replace(spec, header_wcs=False))
        runs = {
            "header": timed_run(root / "with_wcs", root / "o1", {}, with_wcs.catalogue),
            "solve/field": timed_run(root / "no_wcs", root / "o2", {"plate_solver": args.solver,
                                                                     "solve_strategy": "per_field"},
                                     with_wcs.catalogue),
            "solve/every": timed_run(root / "no_wcs", root / "o3", {"plate_solver": args.solver,
                                                                     "solve_strategy": "every_frame"},
                                     with_wcs.catalogue),
        }
    base = runs["header"]["wall_s"]
    print(f"{'run':12s} {'wall s':>7s} {'WCS s':>6s} {'solves':>6s} {'s/solve':>8s} {'s/tile':>7s} "
          f"{'astrometry px':>13s} {'ratio':>6s}")
    for name, r in runs.items():
        per_tile = r["wcs_s"] / max(r["tiles"], 1)
        print(f"{name:12s} {r['wall_s']:7.1f} {r['wcs_s']:6.2f} {r['n_solves']:6d} {r['solve_s_per_frame']:8.3f} "
              f"{per_tile:7.2f} {r['rms_px']:13.3f} {r['wall_s'] / base:6.2f}")
    every = runs["solve/every"]["wall_s"]
    print(f"solve/field vs solve/every: {runs['solve/field']['wall_s'] / every:.2f} of the time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
