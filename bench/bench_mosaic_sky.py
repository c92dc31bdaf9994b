"""The sky left in the mosaic against the generator's truth, per ``mosaic_background`` model (issue 16 item 2).

For each scene: generate the frames, run the whole pipeline once per model, and print per channel (R, G, B, ADU):
the large-scale sky left (98-2 % of the 64 px-smoothed residual after one gain and offset per channel, no plane),
the single-frame noise (per-pixel sigma and its 64 px-smoothed equivalent), and the nebula flux kept (whole nebula,
and the big blob wider than a tile alone). The definitions are in ``tests/sky_truth.py``. "below ABC" says which
single-frame levels the sky left is under in every channel: A the pixel sigma, B the same statistic on a single
debayered frame's noise, C on white noise (4.107 sigma / 64).

Scenes (the generator's nebula, a big blob wider than a tile plus three smaller ones, fills most of the mosaic in
all of them): ``demo`` (``zemosaic demo``'s dataset, seed 1), ``demo2``..``demo4`` (the same with seeds 2-4),
``steep`` (the demo with gradient_frac 0.5), ``bright`` (the demo with a nebula 4x brighter, peak 480 ADU),
``flat`` (the demo with no light-pollution gradient and no panel offsets: what is left is not light pollution),
``strong`` (the scene of tests/mosaic/test_mosaic_sky.py: 240 x 360 frames, gradient_frac 0.5).

The demo's frames carry the S50 sensor response (``SynthSpec.sensor_response``, 0.78 / 1 / 0.62: the scene's
light in R and B reaches the frames weakened, the noise does not), and the colour calibration scales R and B back:
the sky left is in the truth's units, so the single-frame levels are given in them too (the frame's, over the
response).

Usage: ``python bench/bench_mosaic_sky.py [--scenes demo,strong] [--models none,plane,surface] [--keep DIR]``
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

DEMO = demo_spec(1)
SCENES = {
    "demo": DEMO,
    "strong": synthetic.SynthSpec(panels=(2, 2), frames_per_panel=6, width=240, height=360, pixel_scale_arcsec=4.8,
                                  rotation_drift_deg=30.0, seed=11, gradient_frac=0.5),
    "bright": dataclasses.replace(DEMO, nebula_peak_adu=480.0),
    "flat": dataclasses.replace(DEMO, gradient_frac=0.0, panel_sky_offsets=False),
    "steep": dataclasses.replace(DEMO, gradient_frac=0.5),
    "demo2": demo_spec(2),
    "demo3": demo_spec(3),
    "demo4": demo_spec(4),
}


def measure(scene: str, models, work: Path, extra=()):
    spec = SCENES[scene]
    dataset = synthetic.generate_dataset(work / scene / "in", spec)
    sigma = sky_truth.single_frame_noise(dataset.frame_paths)
    rows = {}
    truth = nebula = big = None
    for model in models:
        t0 = time.perf_counter()
        out = work / scene / model
        result = worker.run_mosaic(work / scene / "in", out,
                                   resolve_config(overrides=[f"mosaic_background={model}", *extra]))
        seconds = time.perf_counter() - t0
        image = fits_io.read_fits_image(result.mosaic_path)
        data = np.asarray(image.data, np.float64)
        if truth is None:
            shape = data.shape[:2]
            truth = np.asarray(dataset.scene.render(image.wcs, shape), np.float64)
            nebula = np.asarray(dataset.scene.render(image.wcs, shape, stars=False), np.float64)
            only_big = dataclasses.replace(dataset.scene, nebula_blobs=dataset.scene.nebula_blobs[:1])
            big = np.asarray(only_big.render(image.wcs, shape, stars=False), np.float64)
        report = json.loads((out / "run_report.json").read_text())
        rows[model] = {"sky_left": sky_truth.sky_left(data, truth, nebula),
                       "kept": sky_truth.flux_kept(data, truth, nebula),
                       "kept_big": sky_truth.flux_kept(data, truth, nebula, big),
                       "seconds": seconds, "background": report["mosaic"].get("background")}
    return sigma, rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenes", default="demo,demo2,demo3,demo4,steep,bright,flat,strong")
    ap.add_argument("--models", default="none,plane,surface")
    ap.add_argument("--set", action="append", default=[], help="extra KEY=VALUE for every run")
    ap.add_argument("--keep", type=Path, help="keep the runs in this folder")
    args = ap.parse_args()
    models = args.models.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        for scene in args.scenes.split(","):
            sigma, rows = measure(scene, models, work, args.set)
            # the sky left is in the truth's units (the mosaic over its gain against the truth); a sensor response
            # scales the scene's light in the frames, not their noise: the frames' noise in the truth's units
            response = np.asarray(SCENES[scene].sensor_response or (1.0, 1.0, 1.0))
            white = sky_truth.smoothed_noise_equivalent(sigma) / response
            single = sky_truth.single_debayered_frame_level(sigma) / response
            units = "" if np.all(response == 1.0) else f" (over the sensor response {response.tolist()})"
            print(f"\n== {scene}: single frame, R,G,B ADU of the truth{units}: pixel sigma "
                  f"{(sigma / response).round(2)}; same statistic on a debayered frame's noise {single.round(2)}; "
                  f"on white noise 4.107 sigma / 64 {white.round(2)}")
            sigma = sigma / response
            base = rows.get("none", {}).get("sky_left")
            for model, r in rows.items():
                s = r["sky_left"]
                ratio = "" if base is None else f" ({(base / np.maximum(s, 1e-9)).round(1)}x less)"
                below = "".join("A" if np.all(s < sigma) else "-") + ("B" if np.all(s < single) else "-") + (
                    "C" if np.all(s < white) else "-")
                print(f"  {model:8s} sky left {s.round(2)}{ratio} below {below}; nebula kept {r['kept'].round(3)}, "
                      f"big blob kept {r['kept_big'].round(3)}; run {r['seconds']:.1f} s")


if __name__ == "__main__":
    main()
