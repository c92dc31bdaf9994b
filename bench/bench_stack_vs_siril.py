"""Benchmark: our mask-aware stack vs Siril's rejection stack on the same aligned frames, in one run.

    python bench/bench_stack_vs_siril.py            # 30, 50 and 200 frames of 1080 x 1920 RGB float32
    python bench/bench_stack_vs_siril.py --quick    # 12, 24 and 48 frames of 270 x 480
    python bench/bench_stack_vs_siril.py --repeat 3 --workdir bench/_work --keep   # medians of 3, frames kept
    python bench/bench_stack_vs_siril.py --sizes 30,50 --before /work/main         # + another checkout's stacker

Frames (synthetic star field + sky gradient + noise, a satellite trail in one frame) are written to a
temporary folder (``--workdir`` to choose one, e.g. bench/_work/, which git ignores; a folder a previous
``--keep`` run left there is reused) as ``.npy`` files that our stacker reads as memmaps, and as 3 x H x W FITS
for Siril. Each run is a child process: wall time of the whole process, its CPU time (user + system) and peak
RSS (``wait4``), and for ours the time of the stack call and of its steps (``fit``: noise and normalisation
fits; ``read``: reading and normalising the chunks; ``rej``: rejection and combine). Siril stacks the
already-registered sequence (``link`` first, not timed) with ``rej w 3 3 -norm=addscale`` and ``rej s 3 3
-norm=addscale``; ours runs the same rejections with noise weights, and each of two normalisations: the one the
pipeline uses (``stack_normalize_method``'s default in ``zemosaic/config.py``) and ``linear_fit``.
``--before DIR`` adds the same runs of the stacker of another checkout (``DIR`` on the child's ``PYTHONPATH``,
e.g. ``/work/main`` or a ``git worktree`` of an older commit): before and after at the same load. The runs of
one size alternate between all cases, ``--repeat`` times; the table shows medians. Ratios are ours / Siril
(same rejection), wall clock of the whole processes, and in brackets the CPU times'. The machine's load average
is printed before and after (the wall times of a shared machine move with it; the CPU times much less).
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
REJECTIONS = {"winsorized": "winsorized_sigma_clip", "kappa_sigma": "kappa_sigma"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few small frames")
    parser.add_argument("--sizes", default=None,
                        help="frame counts, comma-separated (default 30,50,200; --quick: 12,24,48)")
    parser.add_argument("--before", type=Path, default=None, help="another checkout whose stacker runs too")
    parser.add_argument("--workdir", type=Path, default=None, help="where frames go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated frames")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each case (medians are shown)")
    parser.add_argument("--child", nargs=4, metavar=("DIR", "N", "MODE", "NORM"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(Path(args.child[0]), int(args.child[1]), args.child[2], args.child[3])
        return
    h, w = (270, 480) if args.quick else (1080, 1920)
    sizes = tuple(int(v) for v in (args.sizes or ("12,24,48" if args.quick else "30,50,200")).split(","))
    work = _workdir(args.workdir, max(sizes), h, w)
    trees = {"ours": ROOT} if args.before is None else {"ours": ROOT, "before": args.before.resolve()}
    try:
        _run(work, sizes, trees, max(1, args.repeat))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def pipeline_norm() -> str:
    """The stack normalisation a pipeline run uses: ``stack_normalize_method``'s default (this checkout's)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from zemosaic.config import ZeMosaicConfig

    return str(ZeMosaicConfig().stack_normalize_method)


def _workdir(parent: Path | None, n: int, h: int, w: int) -> Path:
    """A folder with at least ``n`` frames of this size: one a ``--keep`` run left in ``parent``, else a new one."""
    if parent is not None and parent.is_dir():
        for old in sorted(parent.glob(f"bench_stack_*x{h}x{w}_*")):
            if (old / "done").exists() and int(old.name.split("_")[2].split("x")[0]) >= n:
                print(f"reusing the frames in {old}")
                return old.resolve()
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"bench_stack_{n}x{h}x{w}_", dir=parent)).resolve()
    print(f"generating {n} frames {h}x{w}x3 in {work} ...", flush=True)
    _generate(work, n, h, w)
    (work / "done").write_text("ok\n")
    return work


def _run(work: Path, sizes: tuple, trees: dict, repeat: int) -> None:
    have_siril = shutil.which("siril-cli") is not None
    if not have_siril:
        print("siril-cli not found: apt-get install -y siril")
    norms = list(dict.fromkeys([pipeline_norm(), "linear_fit"]))
    print(f"normalisations: {norms} (the first is the pipeline's); trees: "
          + ", ".join(f"{k}={v}" for k, v in trees.items()))
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    med: dict = {}
    for frames in sizes:
        if have_siril:
            _siril_sequence(work, frames)
        cases = [(who, mode, norm) for mode in MODES for who in trees for norm in norms]
        cases += [("siril", mode, "addscale") for mode in MODES if have_siril]
        results: dict = {c: [] for c in cases}
        for tree in trees.values():
            _ours(work, min(frames, 4), "kappa_sigma", norms[0], tree)  # numba cache and page cache warm
        for _ in range(repeat):
            for case in cases:
                who, mode, norm = case
                run = _siril_stack(work, MODES[mode]) if who == "siril" else _ours(work, frames, mode, norm, trees[who])
                results[case].append(run)
                print(f"  {who} {mode} {norm} {frames}: {run['wall']:.2f} s wall, {run['cpu']:.2f} s CPU, "
                      f"{run['rss_mb']:.0f} MB (load {os.getloadavg()[0]:.2f})", flush=True)
        for case, runs in results.items():
            med[case + (frames,)] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    _table(med)


def _table(med: dict) -> None:
    print(f"\n{'run':40s} {'frames':>6s} {'wall s':>7s} {'CPU s':>7s} {'stack s':>8s} {'fit':>5s} {'read':>5s} "
          f"{'rej':>5s} {'RSS MB':>7s} {'ours/Siril':>10s} {'(CPU)':>7s}")
    for (who, mode, norm, frames), m in med.items():
        ref = med.get(("siril", mode, "addscale", frames)) if who != "siril" else None
        ratio = f"{m['wall'] / ref['wall']:10.2f} {'(%.2f)' % (m['cpu'] / ref['cpu']):>7s}" if ref else f"{'':>18s}"
        steps = (f"{m['stack']:8.2f} {m['fit']:5.2f} {m['read']:5.2f} {m['rej']:5.2f}" if "stack" in m
                 else f"{'':>8s} {'':>5s} {'':>5s} {'':>5s}")
        print(f"{who + ' ' + mode + ' ' + norm:40s} {frames:6d} {m['wall']:7.2f} {m['cpu']:7.2f} {steps} "
              f"{m['rss_mb']:7.0f} {ratio}")


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


def _ours(work: Path, n: int, mode: str, norm: str, tree: Path) -> dict:
    """Our stack of the first ``n`` frames in a child process whose ``zemosaic`` is the one of ``tree``."""
    run, out = _measure([sys.executable, str(Path(__file__).resolve()), "--child", str(work), str(n), mode, norm],
                        cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)})
    if run["rc"] != 0:
        raise RuntimeError(out[-3000:])
    result = json.loads(out.strip().splitlines()[-1])
    timings = result["timings"]
    run.update(stack=result["stack"], fit=timings["fit"], read=timings["read"], rej=timings["reject_combine"])
    return run


def _child(work: Path, n: int, mode: str, norm: str) -> None:
    from zemosaic.stack import cpu as stacking

    frames = [np.load(work / f"frame_{i:04d}.npy", mmap_mode="r") for i in range(n)]
    t0 = time.perf_counter()
    result = stacking.stack_aligned_images(frames, rejection_algorithm=REJECTIONS[mode], normalize_method=norm)
    stack = time.perf_counter() - t0
    print(json.dumps({"stack": stack, "chunk_rows": result.chunk_rows, "timings": result.timings,
                      "rejected": result.rejected_fraction}))


if __name__ == "__main__":
    main()
