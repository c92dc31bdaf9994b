"""Benchmark of lecropper on a Seestar-sized master tile (1080 x 1920 x 3 float32).

Times ``mask_altaz_artifacts`` on both paths (coverage map from 20 rotated / shifted frame footprints, and the
coverage-less fallback on the same tile with constant-filled rotated corners) and ``detect_quality_crop_rect``;
prints the median of N runs in seconds. No peer tool does this job, so there is no ratio.

Usage: ``python bench/bench_lecropper.py [--quick] [--runs N]``
"""
import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import lecropper  # noqa: E402
from zemosaic.synthetic.generator import rotated_footprint_coverage  # noqa: E402

H, W = 1080, 1920


def footprints(h, w, n=20, max_angle=10.0, max_shift=0.03, size=0.95, seed=0):
    """Coverage of an Alt-Az group: rotated, shifted rectangles (the generator's helper)."""
    return rotated_footprint_coverage((h, w), n, max_angle_deg=max_angle, max_shift=max_shift, size=size, seed=seed)


def tile(h, w, cov, seed=1):
    """Noisy star field, 0 where no frame contributed (what a stacker leaves)."""
    rng = np.random.default_rng(seed)
    img = rng.normal(100.0, 5.0, (h, w, 3)).astype(np.float32)
    ys, xs = rng.integers(0, h, 3000), rng.integers(0, w, 3000)
    img[ys, xs] += rng.uniform(50, 3000, (3000, 1)).astype(np.float32)
    img[cov == 0] = 0.0
    return img


def median_time(fn, runs):
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 runs instead of 5")
    parser.add_argument("--runs", type=int, default=None)
    args = parser.parse_args(argv)
    runs = args.runs or (3 if args.quick else 5)
    cov = footprints(H, W)
    img = tile(H, W, cov)
    cases = {
        "coverage path": lambda: lecropper.mask_altaz_artifacts(img, return_mask=True, coverage=cov),
        "fallback path": lambda: lecropper.mask_altaz_artifacts(img, return_mask=True),
        "quality crop rect": lambda: lecropper.detect_quality_crop_rect(img),
    }
    print(f"lecropper on a {H} x {W} x 3 float32 tile, coverage max {cov.max():.0f}, "
          f"{100 * np.mean(cov == 0):.1f}% uncovered; median of {runs} runs")
    for name, fn in cases.items():
        print(f"  {name:<18s} {median_time(fn, runs):7.3f} s")
    res = lecropper.compute_alpha_mask(img, coverage=cov)
    fb = lecropper.compute_alpha_mask(img)
    print(f"  coverage: thr={res.threshold:g} kept={res.kept_fraction:.3f} mean alpha={res.alpha.mean():.3f}; "
          f"fallback: kept={fb.kept_fraction:.3f} mean alpha={fb.alpha.mean():.3f}")
    print(f"  peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
