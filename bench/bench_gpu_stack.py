"""Benchmark: the GPU stack (CuPy) against the CPU stack (numba), in one process, on the same frames.

On a GPU machine (H100, H200...), from the repository root, one command::

    pip install -q cupy-cuda12x && python bench/bench_gpu_stack.py

(``pip install ".[gpu]"`` installs the same CuPy wheel.) Other sizes and the whole-run measurement::

    python bench/bench_gpu_stack.py --quick     # 12 frames of 270 x 480 and 48 of 135 x 240 (seconds)
    python bench/bench_gpu_stack.py --phase3    # a whole run's Phase 3 with use_gpu off and on (zemosaic synth)
    python bench/bench_gpu_stack.py --phase3 --quick

Stack mode: 50 RGB frames of 1080 x 1920 float32, then 200 of 540 x 960 (synthetic star field, sky gradient,
per-frame gain and offset, noise, a satellite trail), held in RAM (``--memmap`` stacks ``.npy`` memmaps
instead, as the pipeline's frame cache does). For each rejection (winsorized, kappa-sigma) the CPU stacker
(numba, every core) and the GPU stacker (``use_gpu``) run with the default options (background_match,
noise weights, mean), each once to warm up (numba and CuPy compile, CuPy's pinned pool fills) and then
``--repeat`` times; the best time counts. Printed: seconds of each path (and of their normalisation fits), the
ratio CPU / GPU, and the parity of the two images: largest absolute difference and its 99.9th percentile over
the pixels both cover, coverage and rejected fractions.

Phase 3 mode: ``zemosaic synth`` writes a dataset (1 x 2 panels of 20 Seestar frames 1080 x 1920; ``--quick``:
1 x 1 of 8 frames 480 x 640) under a temporary folder; ``zemosaic run`` builds it with ``use_gpu=false`` and
then twice with ``use_gpu=true`` (the first fills CuPy's kernel cache; the second counts), each in its own
process. Printed: Phase 3 seconds (``phase_timings_s["3_master_tiles"]``) and the tiles' stack seconds from
``run_report.json``.

Without CuPy or a CUDA device the script says so, runs the CPU path only and exits 0.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REJECTIONS = ("winsorized_sigma_clip", "kappa_sigma")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small frames (seconds)")
    parser.add_argument("--phase3", action="store_true", help="time a whole run's Phase 3, use_gpu off and on")
    parser.add_argument("--repeat", type=int, default=2, help="timed runs per path after the warm-up (best counts)")
    parser.add_argument("--memmap", action="store_true", help="stack .npy memmaps (as the frame cache does)")
    parser.add_argument("--xp-numpy", action="store_true",
                        help="also run the device path's code on NumPy (its parity on a machine without a GPU)")
    parser.add_argument("--workdir", type=Path, default=None, help="where files go (default: a temp dir)")
    args = parser.parse_args()
    cupy, why = _cupy()
    _print_machine(cupy, why)
    if args.phase3:
        return _phase3(args, cupy)
    sizes = [(12, 270, 480), (48, 135, 240)] if args.quick else [(50, 1080, 1920), (200, 540, 960)]
    rows = []
    for n, h, w in sizes:
        rows += _stack_bench(n, h, w, args, cupy)
    _print_table(rows, cupy is not None)
    return 0


# --------------------------------------------------------------------------------------------------
# stack mode
# --------------------------------------------------------------------------------------------------

def _stack_bench(n: int, h: int, w: int, args, cupy) -> list:
    from zemosaic.stack import cpu as stacking
    from zemosaic.stack import gpu

    print(f"\ngenerating {n} frames {h}x{w}x3 ...", flush=True)
    work = None
    frames = _frames(n, h, w)
    if args.memmap:
        work = Path(tempfile.mkdtemp(prefix="bench_gpu_", dir=args.workdir))
        frames = _to_memmaps(frames, work)
    try:
        stacking.stack_aligned_images([f[:64, :64] for f in frames[:4]])  # numba compiles outside the timings
        rows = []
        for rejection in REJECTIONS:
            kw = {"rejection_algorithm": rejection}
            cpu_s, cpu_res = _best(lambda kw=kw: stacking.stack_aligned_images(frames, **kw), args.repeat)
            row = {"frames": n, "size": f"{h}x{w}", "rejection": rejection, "cpu_s": cpu_s,
                   "cpu_fit_s": cpu_res.timings["fit"], "cpu_rejected": cpu_res.rejected_fraction}
            if cupy is not None:
                gpu.run_stack_device(frames, None, stacking.StackOptions(**kw), cupy)  # warm-up (compiles)
                gpu_s, gpu_res = _best(lambda kw=kw: gpu.stack_aligned_images_gpu(frames, **kw), args.repeat)
                if gpu_res.timings.get("device") != 1.0:
                    raise RuntimeError("the GPU stack fell back to the CPU (see the log above)")
                row.update(gpu_s=gpu_s, gpu_fit_s=gpu_res.timings["fit"], **_parity(cpu_res, gpu_res))
            if args.xp_numpy:
                t0 = time.perf_counter()
                xp_res = gpu.stack_aligned_images_xp(frames, np, stacking.StackOptions(**kw))
                row.update(xp_numpy_s=time.perf_counter() - t0,
                           **{f"xp_numpy_{k}": v for k, v in _parity(cpu_res, xp_res).items()})
            rows.append(row)
            print(json.dumps(row), flush=True)
        return rows
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)


def _best(run, repeat: int):
    """Warm-up once, then the best of ``repeat`` timed runs: (seconds, last result)."""
    result = run()
    best = float("inf")
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - t0)
    return best, result


def _parity(cpu_res, other) -> dict:
    both = np.isfinite(cpu_res.image) & np.isfinite(other.image)
    diff = np.abs(cpu_res.image[both].astype(np.float64) - other.image[both])
    return {"max_abs_diff": float(diff.max()) if diff.size else 0.0,
            "p999_abs_diff": float(np.percentile(diff, 99.9)) if diff.size else 0.0,
            "nan_pattern_equal": bool(np.array_equal(np.isnan(cpu_res.image), np.isnan(other.image))),
            "coverage_equal": bool(np.array_equal(cpu_res.coverage, other.coverage)),
            "rejected_diff": float(abs(cpu_res.rejected_fraction - other.rejected_fraction))}


def _frames(n: int, h: int, w: int) -> list:
    """Star field + gradient, per-frame gain/offset/noise, a satellite trail in frame 3 (float32 RGB)."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    sky = 800.0 + 0.05 * xx * (1920 / w) + 0.03 * yy * (1080 / h)
    n_stars = h * w // 400
    stars = np.zeros((h, w), np.float32)
    np.add.at(stars, (rng.integers(0, h, n_stars), rng.integers(0, w, n_stars)),
              rng.pareto(1.5, n_stars).astype(np.float32) * 300.0)
    truth = (sky + gaussian_filter(stars, 1.4) * 2 * np.pi * 1.4**2)[..., None] * np.array([0.9, 1.0, 1.2],
                                                                                         np.float32)
    frames = []
    for i in range(n):
        frame = truth * np.float32(rng.uniform(0.95, 1.05)) + np.float32(rng.uniform(-20, 20))
        frame += rng.normal(0, 8.0, frame.shape).astype(np.float32)
        if i == 3:
            frame[np.abs(yy - (0.3 * xx + h * 0.2)) < 1.5] += 2000.0
        frames.append(frame.astype(np.float32))
    return frames


def _to_memmaps(frames: list, work: Path) -> list:
    out = []
    for i, frame in enumerate(frames):
        path = work / f"frame_{i:04d}.npy"
        np.save(path, frame)
        out.append(np.load(path, mmap_mode="r"))
    return out


def _print_table(rows: list, with_gpu: bool) -> None:
    print(f"\n{'frames':>6s} {'size':>10s} {'rejection':>22s} {'CPU s':>7s} {'(fit)':>6s}", end="")
    if with_gpu:
        print(f" {'GPU s':>7s} {'(fit)':>6s} {'CPU/GPU':>8s} {'max|d|':>9s} {'p99.9|d|':>9s} {'cov=':>5s}", end="")
    print()
    for r in rows:
        print(f"{r['frames']:6d} {r['size']:>10s} {r['rejection']:>22s} {r['cpu_s']:7.2f} {r['cpu_fit_s']:6.2f}",
              end="")
        if with_gpu:
            print(f" {r['gpu_s']:7.2f} {r['gpu_fit_s']:6.2f} {r['cpu_s'] / r['gpu_s']:8.2f}x"
                  f" {r['max_abs_diff']:9.3g} {r['p999_abs_diff']:9.3g} {str(r['coverage_equal']):>5s}", end="")
        if "xp_numpy_s" in r:
            print(f"  [device code on NumPy: {r['xp_numpy_s']:.2f} s, max|d| {r['xp_numpy_max_abs_diff']:.3g}]",
                  end="")
        print()
    if not with_gpu:
        print("\n(no GPU: only the CPU path was timed)")


# --------------------------------------------------------------------------------------------------
# phase 3 mode
# --------------------------------------------------------------------------------------------------

def _phase3(args, cupy) -> int:
    synth = (["--panels", "1x1", "--frames", "8", "--size", "480x640"] if args.quick
             else ["--panels", "1x2", "--frames", "20", "--size", "1080x1920"])
    work = Path(tempfile.mkdtemp(prefix="bench_gpu_phase3_", dir=args.workdir))
    try:
        print(f"zemosaic synth {' '.join(synth)} -> {work / 'input'}", flush=True)
        _zemosaic(["synth", str(work / "input"), *synth, "--seed", "5"])
        runs = [("use_gpu=false", "cpu", False)]
        if cupy is not None:
            runs += [("use_gpu=true", "gpu (cold: fills the kernel cache)", True),
                     ("use_gpu=true", "gpu", True)]
        else:
            print("no GPU: the use_gpu=true run would fall back to the CPU; only use_gpu=false is timed")
        results = []
        for i, (setting, label, _gpu) in enumerate(runs):
            out = work / f"out_{i}"
            t0 = time.perf_counter()
            _zemosaic(["run", str(work / "input"), "-o", str(out), "--set", setting])
            wall = time.perf_counter() - t0
            report = json.loads((out / "run_report.json").read_text())
            stack = sum(t.get("timings_s", {}).get("stack", 0.0) for t in report.get("tiles", []))
            results.append((label, report["phase_timings_s"].get("3_master_tiles", float("nan")), stack, wall))
        print(f"\n{'run':36s} {'Phase 3 s':>10s} {'stack s':>8s} {'run s':>7s}")
        for label, phase3, stack, wall in results:
            print(f"{label:36s} {phase3:10.2f} {stack:8.2f} {wall:7.2f}")
        if cupy is not None:
            cpu_p3, gpu_p3 = results[0][1], results[-1][1]
            print(f"\nPhase 3: CPU / GPU = {cpu_p3 / gpu_p3:.2f}x ({cpu_p3 - gpu_p3:+.2f} s saved)")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _zemosaic(argv: list) -> None:
    proc = subprocess.run([sys.executable, "-m", "zemosaic", *argv], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if proc.returncode != 0:
        raise RuntimeError(f"zemosaic {' '.join(argv)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")


# --------------------------------------------------------------------------------------------------
# machine
# --------------------------------------------------------------------------------------------------

def _cupy():
    """(cupy, None) with a usable device, else (None, why not)."""
    try:
        import cupy
    except ImportError:
        return None, "CuPy is not installed (pip install cupy-cuda12x)"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError without a driver
        return None, f"CuPy finds no CUDA device ({exc})"
    if count < 1:
        return None, "CuPy finds no CUDA device"
    return cupy, None


def _print_machine(cupy, why) -> None:
    from numba import get_num_threads

    print(f"CPU: {os.cpu_count()} cores, numba threads {get_num_threads()}")
    if cupy is None:
        print(f"no GPU: {why}; running the CPU path only")
        return
    props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.runtime.getDevice())
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    free, total = cupy.cuda.runtime.memGetInfo()
    print(f"GPU: {name}, {total / 2**30:.0f} GiB ({free / 2**30:.0f} free), CuPy {cupy.__version__}")


if __name__ == "__main__":
    sys.exit(main())
