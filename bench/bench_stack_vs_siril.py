"""Benchmark: our mask-aware stack vs Siril's rejection stack on the same aligned frames, in one run.

    python bench/bench_stack_vs_siril.py            # 50 (and 200) frames of 1080 x 1920 RGB float32
    python bench/bench_stack_vs_siril.py --quick    # 12 (and 48) frames of 270 x 480

Frames (synthetic star field + sky gradient + noise, a satellite trail in one frame) are written to a
temporary folder (``--workdir`` to choose one, e.g. bench/_work/, which git ignores) as ``.npy`` files
that our stacker reads as memmaps, and as 3 x H x W FITS for Siril. Each of our runs is a child process
(wall time of the whole process and of the stack call, peak RSS from ``getrusage``); Siril stacks the
already-registered sequence (``link`` first, not timed) with ``rej w 3 3 -norm=addscale`` and
``rej s 3 3 -norm=addscale``. Ratios are ours / Siril, wall clock of the whole processes.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few small frames")
    parser.add_argument("--workdir", type=Path, default=None, help="where frames go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated frames")
    parser.add_argument("--child", nargs=3, metavar=("DIR", "N", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(Path(args.child[0]), int(args.child[1]), args.child[2])
        return
    n, n_big, h, w = (12, 48, 270, 480) if args.quick else (50, 200, 1080, 1920)
    work = Path(tempfile.mkdtemp(prefix="bench_stack_", dir=args.workdir)).resolve()
    try:
        _run(work, n, n_big, h, w)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def _run(work: Path, n: int, n_big: int, h: int, w: int) -> None:
    print(f"generating {n_big} frames {h}x{w}x3 in {work} ...", flush=True)
    _generate(work, n_big, h, w, n_fits=n)
    rows = []
    siril = {}
    if shutil.which("siril-cli"):
        _siril_link(work)
        for letter, name in (("w", "winsorized"), ("s", "kappa_sigma")):
            siril[name] = _siril_stack(work, letter)
    else:
        print("siril-cli not found: apt-get install -y siril")
    for mode in ("winsorized", "kappa_sigma", "winsorized+background_match"):
        rows.append((mode, n, _ours(work, n, mode)))
    rows.append(("winsorized", n_big, _ours(work, n_big, "winsorized")))
    print(f"\n{'run':34s} {'frames':>6s} {'wall s':>8s} {'stack s':>8s} {'peak RSS MB':>12s} {'ours/Siril':>10s}")
    for name, frames, peak_wall in [(f"siril {k}", n, v) for k, v in siril.items()]:
        print(f"{name:34s} {frames:6d} {peak_wall:8.2f} {'':>8s} {'':>12s} {'':>10s}")
    for mode, frames, res in rows:
        ref = siril.get(mode) if frames == n else None
        ratio = f"{res['wall'] / ref:10.2f}" if ref else f"{'':>10s}"
        print(f"ours {mode:29s} {frames:6d} {res['wall']:8.2f} {res['stack']:8.2f} {res['rss_mb']:12.0f} {ratio}")
    base = next(r for m, f, r in rows if m == "winsorized" and f == n)
    bg = next(r for m, f, r in rows if m.endswith("background_match"))
    print(f"\nbackground_match cost: {100 * (bg['stack'] / base['stack'] - 1):+.1f} % of the stack call")
    print(f"chunk rows: {n} frames -> {base['chunk_rows']}, {n_big} frames -> {rows[-1][2]['chunk_rows']}")


def _generate(work: Path, n: int, h: int, w: int, n_fits: int) -> None:
    from astropy.io import fits

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    sky = 800.0 + 0.05 * xx + 0.03 * yy
    n_stars = h * w // 400
    stars = np.zeros((h, w), np.float32)
    ys, xs = rng.integers(0, h, n_stars), rng.integers(0, w, n_stars)
    np.add.at(stars, (ys, xs), rng.pareto(1.5, n_stars).astype(np.float32) * 300.0)
    from scipy.ndimage import gaussian_filter

    truth = sky + gaussian_filter(stars, 1.4) * 2 * np.pi * 1.4**2
    colour = np.array([0.9, 1.0, 1.2], np.float32)
    (work / "lights").mkdir()
    for i in range(n):
        frame = truth[..., None] * colour * rng.uniform(0.95, 1.05) + rng.uniform(-20, 20)
        frame = frame + rng.normal(0, 8.0, frame.shape).astype(np.float32)
        if i == 3:
            band = np.abs(yy - (0.3 * xx + h * 0.2)) < 1.5
            frame[band] += 2000.0
        frame = frame.astype(np.float32)
        np.save(work / f"frame_{i:04d}.npy", frame)
        if i < n_fits:
            fits.PrimaryHDU(np.ascontiguousarray(np.moveaxis(frame, -1, 0))).writeto(
                work / "lights" / f"light_{i:04d}.fits")


def _siril_link(work: Path) -> None:
    script = "requires 1.0.0\nsetext fits\nset32bits\ncd lights\nlink light -out=../process\nclose\n"
    _siril(work, script)


def _siril_stack(work: Path, letter: str) -> float:
    script = (f"requires 1.0.0\nsetext fits\nset32bits\ncd process\n"
              f"stack light rej {letter} 3 3 -norm=addscale -out=../result_{letter}\nclose\n")
    t0 = time.perf_counter()
    _siril(work, script)
    return time.perf_counter() - t0


def _siril(work: Path, script: str) -> None:
    path = work / "script.ssf"
    path.write_text(script)
    proc = subprocess.run(["siril-cli", "-d", str(work), "-s", str(path)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"siril failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def _ours(work: Path, n: int, mode: str) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--child", str(work), str(n), mode],
                          capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    return result


def _child(work: Path, n: int, mode: str) -> None:
    from zemosaic.stack import cpu as stacking

    frames = [np.load(work / f"frame_{i:04d}.npy", mmap_mode="r") for i in range(n)]
    rejection = "kappa_sigma" if mode == "kappa_sigma" else "winsorized_sigma_clip"
    norm = "background_match" if mode.endswith("background_match") else "linear_fit"
    t0 = time.perf_counter()
    result = stacking.stack_aligned_images(frames, rejection_algorithm=rejection, normalize_method=norm)
    stack = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"stack": stack, "rss_mb": rss_mb, "chunk_rows": result.chunk_rows,
                      "timings": result.timings, "rejected": result.rejected_fraction}))


if __name__ == "__main__":
    main()
