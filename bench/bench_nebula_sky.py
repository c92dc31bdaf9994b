"""Sky / nebula separation against the generator's truth (issue 26 item 1): the lower envelope (``plane``, before)
against the joint fit of the frames' own gradients (``motion``, after), beside a plane fitted to the truth itself.

For each scene: generate the frames (a field-filling nebula whose floor rises to one side, ``nebula_floor_frac``;
per-frame light-pollution gradients fixed in the frame), run the pipeline with ``mosaic_background=plane``, then
again with ``motion`` (``--resume``: the master tiles are reused, only Phases 4-6 run again), and print per channel
(R, G, B, ADU = e- at the generator's gain 1):

* **sky left**: span (98-2 %) of the 64 px-smoothed residual against the truth after one gain and one offset per
  channel (``tests/sky_truth.py``);
* **nebula kept**: the nebula's flux in the mosaic over the truth's;
* **truth-plane**: the same figures for the ``plane`` mosaic corrected by the best plane fitted to its residual
  against the truth: what a perfect plane would leave (the issue's yardstick: after <= 1.5 x this).

Scenes: ``altaz`` (the demo's 2x2 Alt-Az mosaic of 540 x 960 frames, 25 deg field rotation, floor 0.5 of the
nebula's peak), ``eq`` (the same on an equatorial mount: dithers only, no rotation), ``altaz_full`` / ``eq_full``
(the same at the Seestar's full 1080 x 1920 frames and 2.4"/px: slow), ``demo`` (the demo without a floor);
``_stable`` in a name: the light pollution steady from frame to frame; ``3x3`` in a name: a 3x3 mosaic (90 frames).
Every scene's panels have their own gradient strength (the generator's 0.7-1.3x per panel) and share its direction.

Usage: ``python bench/bench_nebula_sky.py [--scenes altaz,eq] [--seed 1] [--keep DIR]``
"""
import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
import sky_truth  # noqa: E402
import zemosaic_worker as worker  # noqa: E402
from zemosaic.config import resolve_config  # noqa: E402
from zemosaic.io import fits as fits_io  # noqa: E402
from zemosaic.synthetic import generator as synthetic  # noqa: E402
from zemosaic.synthetic.demo import demo_spec  # noqa: E402

FLOOR = 0.5


def scene_spec(name: str, seed: int) -> synthetic.SynthSpec:
    spec = dataclasses.replace(demo_spec(seed), nebula_floor_frac=0.0 if name == "demo" else FLOOR)
    if name.startswith("eq"):
        spec = dataclasses.replace(spec, mount="equatorial")
    if "stable" in name:  # the light pollution steady from frame to frame (1 %, 0.5 deg instead of 10 %, 3 deg)
        spec = dataclasses.replace(spec, gradient_jitter=0.01, gradient_angle_jitter_deg=0.5)
    if "3x3" in name:  # nine panels: the tie of the panels' gradient directions matters most
        spec = dataclasses.replace(spec, panels=(3, 3))
    if name.endswith("_full"):
        spec = dataclasses.replace(spec, width=1080, height=1920, pixel_scale_arcsec=2.4)
    return spec


def truth_plane_corrected(data: np.ndarray, truth: np.ndarray, nebula: np.ndarray) -> np.ndarray:
    """``data`` minus, per channel, the best plane (least squares over the star-free covered pixels) fitted to its
    residual against the truth, scaled back by the channel's gain."""
    residual, m = sky_truth.residual_after_gain_offset(data, truth, nebula)
    rows, cols = np.nonzero(m["use"] & m["inner"])
    pick = slice(None, None, max(1, rows.size // 200_000))
    rows, cols = rows[pick], cols[pick]
    design = np.column_stack([np.ones(rows.size), cols, rows])
    yy, xx = np.mgrid[0:data.shape[0], 0:data.shape[1]]
    out = data.copy()
    for c in range(data.shape[2]):
        coef = np.linalg.lstsq(design, residual[rows, cols, c], rcond=None)[0]
        out[..., c] -= m["gain"][c] * (coef[0] + coef[1] * xx + coef[2] * yy)
    return out


def figures(data, truth, nebula):
    return sky_truth.sky_left(data, truth, nebula), sky_truth.flux_kept(data, truth, nebula)


def measure(name: str, seed: int, work: Path) -> dict:
    spec = scene_spec(name, seed)
    dataset = synthetic.generate_dataset(work / name / "in", spec)
    out = work / name / "out"
    rows, truth, nebula, fallback = {}, None, None, None
    for k, model in enumerate(("plane", "motion")):
        t0 = time.perf_counter()
        result = worker.run_mosaic(work / name / "in", out, resolve_config(overrides=[f"mosaic_background={model}"]),
                                   overwrite=k == 0, resume=k > 0)
        seconds = time.perf_counter() - t0
        image = fits_io.read_fits_image(result.mosaic_path)
        data = np.asarray(image.data, np.float64)
        if truth is None:
            truth = np.asarray(dataset.scene.render(image.wcs, data.shape[:2]), np.float64)
            nebula = np.asarray(dataset.scene.render(image.wcs, data.shape[:2], stars=False), np.float64)
            rows["truth-plane"] = figures(truth_plane_corrected(data, truth, nebula), truth, nebula)
        report = json.loads((out / "run_report.json").read_text())
        rows[model] = figures(data, truth, nebula) + (seconds, report["phase_timings_s"].get("5.5_background"))
        if model == "motion":
            fallback = report.get("sky_motion")
    return {"rows": rows, "motion": fallback}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenes", default="altaz,eq")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, help="keep the runs in this folder")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        for name in args.scenes.split(","):
            res = measure(name, args.seed, work)
            print(f"\n== {name} (seed {args.seed}): sky left R,G,B (ADU = e-) and nebula kept R,G,B")
            truth_left = res["rows"]["truth-plane"][0]
            for label, key in (("before (plane)", "plane"), ("after (motion)", "motion"),
                               ("truth-plane", "truth-plane")):
                left, kept = res["rows"][key][:2]
                extra = "" if key == "truth-plane" else (
                    f"; {np.round(left / np.maximum(truth_left, 1e-9), 2).tolist()} x truth-plane; "
                    f"run {res['rows'][key][2]:.0f} s, Phase 5.5 {res['rows'][key][3]:.1f} s")
                print(f"  {label:15s} sky left {np.round(left, 1).tolist()}  kept {np.round(kept, 3).tolist()}"
                      f"{extra}")
            m = res["motion"] or {}
            print(f"  motion fit: identified={m.get('identified')} fallback={m.get('fallback')} "
                  f"rotation spread {m.get('rotation_spread_deg')} deg; panels' gradient directions tied within "
                  f"{m.get('gradient_direction_spread_deg')} deg; {m.get('reason')}")


if __name__ == "__main__":
    main()
