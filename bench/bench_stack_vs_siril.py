"""Benchmark: our mask-aware stack vs Siril's rejection stack on the same aligned frames, in one run.

    python bench/bench_stack_vs_siril.py            # 50 and 200 frames of 1080 x 1920 RGB float32
    python bench/bench_stack_vs_siril.py --quick    # 12 and 48 frames of 270 x 480
    python bench/bench_stack_vs_siril.py --repeat 3 --workdir bench/_work --keep   # medians of 3, frames kept

Frames (synthetic star field + sky gradient + noise, a satellite trail in one frame) are written to a
temporary folder (``--workdir`` to choose one, e.g. bench/_work/, which git ignores; a folder a previous
``--keep`` run left there is reused) as ``.npy`` files that our stacker reads as memmaps, and as 3 x H x W FITS
for Siril. Each run is a child process: wall time of the whole process, its CPU time (user + system) and peak
RSS (``wait4``), and for ours the time of the stack call. Siril stacks the already-registered sequence (``link``
first, not timed) with ``rej w 3 3 -norm=addscale`` and ``rej s 3 3 -norm=addscale``; ours runs
``linear_fit`` normalisation and noise weights with the same rejections. The runs of one size alternate between
Siril and us, ``--repeat`` times; the table shows medians. Ratios are ours / Siril, wall clock of the whole
processes. The machine's load average is printed before and after (the wall times of a shared machine move
with it; the CPU times much less).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MODES = {"winsorized": "w", "kappa_sigma": "s"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few small frames")
    parser.add_argument("--workdir", type=Path, default=None, help="where frames go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated frames")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each case (medians are shown)")
    parser.add_argument("--child", nargs=3, metavar=("DIR", "N", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(Path(args.child[0]), int(args.child[1]), args.child[2])
        return
    n, n_big, h, w = (12, 48, 270, 480) if args.quick else (50, 200, 1080, 1920)
    work = _workdir(args.workdir, n_big, h, w)
    try:
        _run(work, (n, n_big), h, w, max(1, args.repeat))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def _workdir(parent: Path | None, n: int, h: int, w: int) -> Path:
    """A folder with ``n`` frames of this size: one a ``--keep`` run left in ``parent``, else a new one."""
    tag = f"bench_stack_{n}x{h}x{w}_"
    if parent is not None and parent.is_dir():
        for old in sorted(parent.glob(tag + "*")):
            if (old / "done").exists():
                print(f"reusing the frames in {old}")
                return old.resolve()
    work = Path(tempfile.mkdtemp(prefix=tag, dir=parent)).resolve()
    print(f"generating {n} frames {h}x{w}x3 in {work} ...", flush=True)
    _generate(work, n, h, w)
    (work / "done").write_text("ok\n")
    return work


def _run(work: Path, sizes: tuple, h: int, w: int, repeat: int) -> None:
    have_siril = shutil.which("siril-cli") is not None
    if not have_siril:
        print("siril-cli not found: apt-get install -y siril")
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    rows = []  # (who, mode, frames, [results])
    for frames in sizes:
        if have_siril:
            _siril_sequence(work, frames)
        cases = [("ours", m) for m in MODES] + [("siril", m) for m in MODES if have_siril]
        if frames == sizes[0]:
            cases.append(("ours", "winsorized+background_match"))
        results: dict = {c: [] for c in cases}
        _ours(work, min(frames, 4), "kappa_sigma")  # numba cache and page cache warm
        for _ in range(repeat):
            for who, mode in cases:
                run = _ours(work, frames, mode) if who == "ours" else _siril_stack(work, MODES[mode])
                results[(who, mode)].append(run)
                print(f"  {who} {mode} {frames}: {run['wall']:.2f} s wall, {run['cpu']:.2f} s CPU, "
                      f"{run['rss_mb']:.0f} MB (load {os.getloadavg()[0]:.2f})", flush=True)
        rows += [(who, mode, frames, runs) for (who, mode), runs in results.items()]
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"\n{'run':38s} {'frames':>6s} {'wall s':>7s} {'CPU s':>7s} {'stack s':>8s} {'peak RSS MB':>12s} "
          f"{'ours/Siril':>10s} {'(CPU)':>6s}")
    med = {(who, mode, f): {k: statistics.median(r[k] for r in runs) for k in runs[0] if k != "timings"}
           for who, mode, f, runs in rows}
    for (who, mode, frames), m in med.items():
        ref = med.get(("siril", mode, frames)) if who == "ours" else None
        ratio = f"{m['wall'] / ref['wall']:10.2f} {m['cpu'] / ref['cpu']:6.2f}" if ref else f"{'':>10s} {'':>6s}"
        stack = f"{m['stack']:8.2f}" if "stack" in m else f"{'':>8s}"
        print(f"{who + ' ' + mode:38s} {frames:6d} {m['wall']:7.2f} {m['cpu']:7.2f} {stack} {m['rss_mb']:12.0f} "
              f"{ratio}")
    base = med[("ours", "winsorized", sizes[0])]
    bg = med[("ours", "winsorized+background_match", sizes[0])]
    print(f"\nbackground_match cost: {100 * (bg['stack'] / base['stack'] - 1):+.1f} % of the stack call")
    print(f"chunk rows: {sizes[0]} frames -> {base['chunk_rows']:.0f}, "
          f"{sizes[1]} frames -> {med[('ours', 'winsorized', sizes[1])]['chunk_rows']:.0f}")


def _generate(work: Path, n: int, h: int, w: int) -> None:
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
        fits.PrimaryHDU(np.ascontiguousarray(np.moveaxis(frame, -1, 0))).writeto(
            work / "lights" / f"light_{i:04d}.fits")


def _siril_sequence(work: Path, n: int) -> None:
    """``process/`` holds the sequence of the first ``n`` frames (links to the FITS of ``lights/``)."""
    seq = work / "process"
    if seq.exists() and len(list(seq.glob("light_*.fit*"))) == n:
        return
    shutil.rmtree(seq, ignore_errors=True)
    sub = work / f"lights_{n}"
    if not sub.exists():
        sub.mkdir()
        for i in range(n):
            os.symlink(work / "lights" / f"light_{i:04d}.fits", sub / f"light_{i:04d}.fits")
    _siril(work, f"requires 1.0.0\nsetext fits\nset32bits\ncd lights_{n}\nlink light -out=../process\nclose\n")


def _siril_stack(work: Path, letter: str) -> dict:
    script = (f"requires 1.0.0\nsetext fits\nset32bits\ncd process\n"
              f"stack light rej {letter} 3 3 -norm=addscale -out=../result_{letter}\nclose\n")
    path = work / "script.ssf"
    path.write_text(script)
    run, out = _measure(["siril-cli", "-d", str(work), "-s", str(path)], cwd=work)
    if run["rc"] != 0:
        raise RuntimeError(f"siril failed: {out[-3000:]}")
    return run


def _siril(work: Path, script: str) -> None:
    path = work / "script.ssf"
    path.write_text(script)
    proc = subprocess.run(["siril-cli", "-d", str(work), "-s", str(path)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"siril failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def _measure(cmd: list, **kwargs) -> tuple:
    """Run ``cmd``; its wall time, CPU time (user + system, children included) and peak RSS."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, **kwargs)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        out = log.read().decode(errors="replace")
    run = {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024.0,
           "rc": proc.returncode}
    return run, out


def _ours(work: Path, n: int, mode: str) -> dict:
    run, out = _measure([sys.executable, __file__, "--child", str(work), str(n), mode], cwd=ROOT,
                        env={**os.environ, "PYTHONPATH": str(ROOT)})
    if run["rc"] != 0:
        raise RuntimeError(out[-3000:])
    result = json.loads(out.strip().splitlines()[-1])
    run.update(stack=result["stack"], chunk_rows=result["chunk_rows"])
    return run


def _child(work: Path, n: int, mode: str) -> None:
    from zemosaic.stack import cpu as stacking

    frames = [np.load(work / f"frame_{i:04d}.npy", mmap_mode="r") for i in range(n)]
    rejection = "kappa_sigma" if mode == "kappa_sigma" else "winsorized_sigma_clip"
    norm = "background_match" if mode.endswith("background_match") else "linear_fit"
    t0 = time.perf_counter()
    result = stacking.stack_aligned_images(frames, rejection_algorithm=rejection, normalize_method=norm)
    stack = time.perf_counter() - t0
    print(json.dumps({"stack": stack, "chunk_rows": result.chunk_rows, "timings": result.timings,
                      "rejected": result.rejected_fraction}))


if __name__ == "__main__":
    main()
