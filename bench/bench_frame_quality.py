"""Frame quality on generated nights with known bad frames (issue 25): what the gate catches, what the mosaic
gains, the partial defects, and ``zemosaic inspect``'s speed.

    python bench/bench_frame_quality.py [--frames 20] [--panels 1x2] [--seed 3] [--inspect 200] [--work DIR]

A night of full-size Seestar frames (1080 x 1920 GRBG) with ``bad_frame_fraction`` 0.22 of the defects of
:mod:`zemosaic.synthetic.weather` (cloud, partial cloud, trail, focus drift, dew, obstacle, satellite; a satellite
frame is not a bad frame: the stacker's pixel rejection removes the trail). Four runs of the same frames:

* ``today``: the gate off (``frame_reject_enabled=false``, ``frame_partial_enabled=false``): every frame at full
  weight, as before this issue;
* ``gate``: the default settings;
* ``gate+psf_snr``: the default gate with ``stack_weighting_method=psf_snr``;
* ``good only``: today's settings on the good frames alone (the target).

Measured on each mosaic: star FWHM and elongation (the quality measures on its luminance), photometric scatter
(robust sigma of the log flux ratio of 300 bright isolated catalogue stars, aperture 7 px, green), sky left (the
mosaic-sky statistic of ``tests/sky_truth.py``, mean of R, G, B). From the gate's report: recall of bad frames
(rejected, or weight < 0.5, or -- partial defects -- part of the frame left out), good frames rejected; for the
partial defects, the covered fraction left out against the truth and the clear part kept. Then ``inspect_frames``
on ``--inspect`` frames (the night's files repeated under new names): wall time per frame. Print the load
(``uptime``): the machine is shared.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import measure  # noqa: E402  (tests/measure.py)
import sky_truth  # noqa: E402  (tests/sky_truth.py)
from zemosaic.align.stars import detect_stars_with_sky  # noqa: E402
from zemosaic.config import resolve_config  # noqa: E402
from zemosaic.io import fits as fits_io  # noqa: E402
from zemosaic.pipeline.inspect import inspect_frames  # noqa: E402
from zemosaic.pipeline.run import run_mosaic  # noqa: E402
from zemosaic.quality.group import partial_mask_on_grid  # noqa: E402
from zemosaic.quality.measures import measure_frame  # noqa: E402
from zemosaic.synthetic.generator import SynthSpec, generate_dataset, make_sky_scene  # noqa: E402
from zemosaic.synthetic.weather import QUALITY_DEFECTS, region_map  # noqa: E402

RUNS = {
    "today": ["frame_reject_enabled=false", "frame_partial_enabled=false"],
    "gate": [],
    "gate+psf_snr": ["stack_weighting_method=psf_snr"],
}
PARTIAL = ("partial_cloud", "obstacle")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=20, help="frames per panel")
    ap.add_argument("--panels", default="1x2")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--fraction", type=float, default=0.22)
    ap.add_argument("--inspect", type=int, default=200, help="frames for the inspect timing (0: skip)")
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--sweep-only", action="store_true",
                    help="only the sweep of the rules' k over the reports an earlier run of this script left in --work")
    args = ap.parse_args()
    if args.sweep_only:
        _sweep(args.work)
        return
    print("load:", os.getloadavg())
    work = args.work or Path(tempfile.mkdtemp(prefix="zemosaic_quality_"))
    rows, cols = (int(v) for v in args.panels.lower().split("x"))
    spec = SynthSpec(panels=(rows, cols), frames_per_panel=args.frames, seed=args.seed,
                     bad_frame_fraction=args.fraction, quality_defects=QUALITY_DEFECTS)
    t0 = time.perf_counter()
    ds = _night(work / "in", spec)
    print(f"night: {len(ds.frames)} frames in {time.perf_counter() - t0:.0f} s -> {work / 'in'}")
    truth = {f.path.name: dict(f.details.get("quality") or {}) for f in ds.frames}
    good_dir = work / "good"
    good_dir.mkdir(exist_ok=True)
    for f in ds.frames:
        if not truth[f.path.name].get("bad") and not (good_dir / f.path.name).exists():
            os.symlink(f.path, good_dir / f.path.name)
    results = {}
    for name, overrides in [*RUNS.items(), ("good only", RUNS["today"])]:
        src = good_dir if name == "good only" else work / "in"
        out = work / name.replace(" ", "_").replace("+", "_")
        t0 = time.perf_counter()
        run_mosaic(src, out, resolve_config(overrides=overrides), overwrite=True)
        results[name] = {**_mosaic_figures(out, ds), "seconds": time.perf_counter() - t0}
        report = json.loads((out / "run_report.json").read_text(encoding="utf-8"))
        if name != "good only":
            results[name].update(_gate_figures(report, truth, ds))
        print(f"  {name}: done in {results[name]['seconds']:.0f} s")
    _print(results)
    _sweep(work)
    if args.inspect:
        _inspect_timing(ds, work, args.inspect)


@dataclasses.dataclass
class _Night:
    frames: list
    catalogue: object
    scene: object
    spec: SynthSpec


@dataclasses.dataclass
class _Frame:
    path: Path
    details: dict


def _night(folder: Path, spec: SynthSpec) -> _Night:
    """The generated night (written once; a folder already holding it for the same spec is reused)."""
    truth_file = folder / "truth" / "frames.json"
    if truth_file.is_file():
        recorded = json.loads(truth_file.read_text(encoding="utf-8"))
        if recorded["spec"] == json.loads(json.dumps(spec.to_dict())):
            scene = make_sky_scene(spec)
            frames = [_Frame(folder / f["file"], f["details"]) for f in recorded["frames"]]
            return _Night(frames, scene.catalogue, scene, spec)
        shutil.rmtree(folder)
    ds = generate_dataset(folder, spec)
    return _Night([_Frame(f.path, dict(f.details)) for f in ds.frames], ds.catalogue, ds.scene, spec)


def _mosaic_figures(out: Path, ds) -> dict:
    image = fits_io.read_fits_image(out / "mosaic.fits")
    data = np.asarray(image.data, np.float64)
    shape = data.shape[:2]
    lum = data.mean(axis=2)
    lum = np.where(np.isfinite(lum), lum, np.nanmedian(lum)).astype(np.float32)
    q = measure_frame(detect_stars_with_sky(lum, 3.0, 5))
    x, y, flux = measure.catalogue_pixels(ds.catalogue, image.wcs, shape, n_brightest=300, max_peak=20000.0)
    x, y = measure.refine_centroids(data[..., 1], x, y)
    found = np.isfinite(x) & np.isfinite(y)
    x, y, flux = x[found], y[found], flux[found]
    got = measure.aperture_flux(data[..., 1], x, y, r=7.0)
    ok = np.isfinite(got) & (got > 0)
    log_ratio = np.log(got[ok] / flux[ok])
    scatter = 1.4826 * float(np.median(np.abs(log_ratio - np.median(log_ratio))))
    truth = np.asarray(ds.scene.render(image.wcs, shape), np.float64)
    nebula = np.asarray(ds.scene.render(image.wcs, shape, stars=False), np.float64)
    sky = float(np.mean(sky_truth.sky_left(data, truth, nebula)))
    return {"fwhm": q.fwhm_px, "elongation": q.elongation, "phot_scatter": scatter, "sky_left": sky,
            "stars_photometry": int(ok.sum())}


def _gate_figures(report: dict, truth: dict, ds) -> dict:
    records = {Path(r["path"]).name: r for t in report["tiles"] for r in t.get("frame_quality", [])}
    bad = [n for n, q in truth.items() if q.get("bad")]
    good = [n for n, q in truth.items() if not q.get("bad")]

    def caught(n):
        r = records.get(n)
        if r is None:  # rejected before the gate (alignment): out of the stack all the same
            return True
        return r["decision"] != "kept" or (r["weight"] or 1) < 0.5 or r.get("masked_fraction", 0) > 0

    lost = [n for n in good if records.get(n, {}).get("decision") != "kept"]
    partial = {}
    for f in ds.frames:
        q = truth[f.path.name]
        if q.get("kind") in PARTIAL:
            partial[f.path.name] = _partial_figures(f, q, records.get(f.path.name), (ds.spec.height, ds.spec.width))
    return {"recall": sum(caught(n) for n in bad) / max(len(bad), 1), "n_bad": len(bad),
            "missed": [f"{truth[n]['kind']}:{n[-10:-4]}" for n in bad if not caught(n)],
            "good_lost": len(lost) / max(len(good), 1), "n_good": len(good),
            "lost": [f"{truth[n].get('kind', 'good')}:{n[-10:-4]}" for n in lost], "partial": partial}


def _partial_figures(frame, q: dict, record: dict | None, shape) -> dict:
    """Of the covered region (truth: the defect's map above 0.5), the fraction left out; of the clear part, the
    fraction kept; both in frame pixels."""
    covered = region_map(shape, q["region"]) > 0.5
    if record is None or record["decision"] != "kept":
        return {"truth": float(covered.mean()), "left_out": 1.0 if record else float("nan"), "clear_kept": 0.0,
                "decision": record["decision"] if record else "not judged"}
    grid = record["local_transparency"]
    cells = np.zeros(len(grid) * len(grid[0]), bool)
    cells[record.get("bad_cells", [])] = True
    removed = partial_mask_on_grid(cells.reshape(len(grid), len(grid[0])), shape, np.eye(3), shape)
    return {"truth": float(covered.mean()), "left_out": float((removed & covered).sum() / max(covered.sum(), 1)),
            "clear_kept": float((~removed & ~covered).sum() / max((~covered).sum(), 1)), "decision": "kept"}


def _print(results: dict) -> None:
    base = results["good only"]
    print("\nmosaic vs the same run on the good frames only (targets: FWHM within 5 %, elongation within 0.03, "
          "photometric scatter within 1.2x)")
    print(f"{'run':14s} {'FWHM px':>8s} {'ratio':>6s} {'elong':>6s} {'diff':>6s} {'phot %':>7s} {'ratio':>6s} "
          f"{'sky left':>8s} {'recall':>6s} {'good lost':>9s}")
    for name, r in results.items():
        judged = "recall" in r and name != "today"  # today: every frame stacked at full weight
        gate = f"{r['recall']:.2f} ({r['n_bad']})" if judged else "-"
        lost = f"{r['good_lost']:.3f} ({r['n_good']})" if judged else "-"
        print(f"{name:14s} {r['fwhm']:8.3f} {r['fwhm'] / base['fwhm']:6.3f} {r['elongation']:6.3f} "
              f"{r['elongation'] - base['elongation']:+6.3f} {100 * r['phot_scatter']:7.2f} "
              f"{r['phot_scatter'] / base['phot_scatter']:6.2f} {r['sky_left']:8.2f} {gate:>6s} {lost:>9s}")
        if judged and (r.get("missed") or r.get("lost")):
            print(f"{'':14s} missed {r.get('missed')} lost {r.get('lost')}")
    print("\npartial defects (gate): covered fraction (truth) / left out of it / clear part kept")
    for name, p in results["gate"]["partial"].items():
        print(f"  {name}: {p['truth']:.3f} / {p['left_out']:.3f} / {p['clear_kept']:.3f} ({p['decision']})")


def _sweep(work: Path) -> None:
    """Recall and good frames lost for several k (every rule's k at once; the sky's at k + 2), re-deciding the
    groups from the measures the ``gate`` run recorded; and the good frames lost on the good frames alone (the
    ``good only`` run: a night without defects)."""
    from zemosaic.quality.group import QualitySettings, decide_group
    from zemosaic.quality.measures import FrameQuality

    truth = {f["file"]: f["details"].get("quality") or {} for f in
             json.loads((work / "in" / "truth" / "frames.json").read_text(encoding="utf-8"))["frames"]}
    print("\nsweep of k (recall of bad frames / good frames lost, on the night; good frames lost on the good frames "
          "alone)")
    for k in (2.0, 2.5, 3.0, 4.0, 5.0):
        s = QualitySettings(fwhm_k=k, elongation_k=k, transparency_k=k, sky_k=k + 2, stars_k=k)
        figures = []
        for run in ("gate", "good_only"):
            caught = lost = n_bad = n_good = 0
            report = json.loads((work / run / "run_report.json").read_text(encoding="utf-8"))
            for tile in report["tiles"]:
                recs = [r for r in tile["frame_quality"] if r.get("judged")]
                qs = [FrameQuality(**{a: b for a, b in r.items() if a in FrameQuality.__dataclass_fields__})
                      for r in recs]
                d = decide_group(qs, [Path(r["path"]).name for r in recs], s, protect=0)
                for r, q, cells in zip(recs, qs, d.bad_cells, strict=True):
                    bad = bool(truth[Path(r["path"]).name].get("bad"))
                    n_bad, n_good = n_bad + bad, n_good + (not bad)
                    hit = q.decision != "kept" or (q.weight or 1) < 0.5 or cells is not None
                    caught += bad and hit
                    lost += (not bad) and q.decision != "kept"
            figures.append((caught / max(n_bad, 1), lost / max(n_good, 1), n_bad, n_good))
        (rec, lost_n, nb, ng), (_, lost_clean, _, ngc) = figures
        print(f"  k={k:3.1f}: recall {rec:.2f} ({nb} bad), good lost {lost_n:.3f} ({ng}); clean night: good lost "
              f"{lost_clean:.3f} ({ngc})")


def _inspect_timing(ds, work: Path, n: int) -> None:
    folder = work / "inspect"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for k in range(n):
        src = ds.frames[k % len(ds.frames)].path
        os.symlink(src, folder / f"{src.stem}_{k:04d}.fit")
    inspect_frames(folder)  # warm (numba caches, imports)
    print("load:", os.getloadavg())
    t0, c0 = time.perf_counter(), time.process_time()
    result = inspect_frames(folder)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    n = max(len(result.rows), 1)
    print(f"\ninspect: {len(result.rows)} frames of {ds.spec.width}x{ds.spec.height} in {wall:.1f} s = "
          f"{wall / n:.3f} s/frame wall, {cpu / n:.3f} CPU s/frame (all threads; target <= 0.15 s/frame)")
    print("load:", os.getloadavg())


if __name__ == "__main__":
    main()
