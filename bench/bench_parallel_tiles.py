"""Benchmark: a 4-tile run with the master tiles built by 1, 2 (and more) worker processes, and on a dask LocalCluster.

One synthetic 2x2 Alt-Az dataset (4 groups, ``--frames`` frames each, ``--size`` pixels) is generated, then each
configuration runs as a fresh ``zemosaic run`` process, what a user starts (imports, numba's cached kernels and the
spawned workers count in its wall time); the configurations take turns for ``--repeat`` rounds and the medians are
shown. For each: the wall time of the command, its CPU time (the run and its workers), the Phase 3 time from
``run_report.json``, the speedup over the serial run (Phase 3 and whole run), and whether ``mosaic.fits`` and every
master tile are bit for bit the serial run's (every HDU's data, and the headers minus DATE). The machine's load
(``os.getloadavg``) is printed before and after: on a loaded or 2-core machine the figures are noisy.

Usage::

    python bench/bench_parallel_tiles.py [--frames 12] [--size 540x960] [--workers 1,2] [--dask] [--repeat 1]
                                         [--workdir DIR] [--keep]

``--workers`` defaults to 1, 2 and the number of usable cores when that is more; ``--dask`` adds a run with
``--scheduler local`` (a LocalCluster of 2 worker processes, started by the run and counted in its time). The work
folder (default: a temporary folder) is deleted at the end unless ``--keep`` or ``--workdir`` is given.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def generate(folder: Path, frames: int, width: int, height: int) -> None:
    from zemosaic.synthetic.generator import SynthSpec, generate_dataset

    spec = SynthSpec(panels=(2, 2), overlap=0.3, frames_per_panel=frames, width=width, height=height,
                     pixel_scale_arcsec=4.8, mount="altaz", rotation_drift_deg=20.0, seed=3)
    generate_dataset(folder, spec)


def run_once(input_dir: Path, out: Path, extra: list[str]) -> dict:
    """One ``zemosaic run`` in a fresh process; its wall time and the run report's phase timings."""
    if out.exists():
        shutil.rmtree(out)
    cmd = [sys.executable, "-m", "zemosaic.cli", "run", str(input_dir), "-o", str(out), *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=_env())
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the run and its workers (each waited for by its parent)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    report = json.loads((out / "run_report.json").read_text())
    workers = next((line.split(" engine=", 1)[1].split(":", 1)[0] for line in
                    (out / "zemosaic.log").read_text().splitlines() if "PHASE3_WORKERS" in line), "?")
    return {"wall_s": wall, "cpu_s": cpu, "phase3_s": report["phase_timings_s"].get("3_master_tiles", float("nan")),
            "engine": workers}


def identical_outputs(a: Path, b: Path) -> bool:
    """mosaic.fits and every master tile of ``b`` equal to ``a``'s: every HDU's data bitwise, headers minus DATE."""
    from astropy.io import fits

    files = sorted(p.relative_to(a) for p in a.rglob("*.fits"))
    if files != sorted(p.relative_to(b) for p in b.rglob("*.fits")):
        return False
    for rel in files:
        with fits.open(a / rel) as x, fits.open(b / rel) as y:
            if len(x) != len(y):
                return False
            for hx, hy in zip(x, y, strict=True):
                if [(c.keyword, c.value) for c in hx.header.cards if c.keyword != "DATE"] != \
                        [(c.keyword, c.value) for c in hy.header.cards if c.keyword != "DATE"]:
                    return False
                if (hx.data is None) != (hy.data is None):
                    return False
                if hx.data is not None and (hx.data.dtype != hy.data.dtype or hx.data.tobytes() != hy.data.tobytes()):
                    return False
    return True


def main(argv=None) -> int:
    from zemosaic.pipeline.tile_plan import usable_cores

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=12, help="frames per tile (default 12)")
    parser.add_argument("--size", default="540x960", help="frame size WxH (default 540x960)")
    parser.add_argument("--workers", default=None, help="comma-separated worker counts (default 1,2[,cores])")
    parser.add_argument("--dask", action="store_true", help="also run on a dask LocalCluster of 2 workers")
    parser.add_argument("--repeat", type=int, default=1, help="runs per configuration; the median is shown")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    cores = usable_cores()
    counts = ([int(v) for v in args.workers.split(",")] if args.workers else
              sorted({1, 2, cores} if cores > 2 else {1, 2}))
    if 1 not in counts:
        counts.insert(0, 1)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="zemosaic_bench_parallel_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        print(f"machine: {cores} usable cores, load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
              f"{os.getloadavg()[2]:.2f} (1/5/15 min)")
        generate(work / "in", args.frames, width, height)
        print(f"dataset: 2x2 Alt-Az panels, {args.frames} frames of {width}x{height} per tile (4 tiles)")
        configs = [(f"processes x{n}" if n > 1 else "serial", str(n), ["--workers", str(n)]) for n in counts]
        if args.dask:
            configs.append(("dask LocalCluster x2", "2", ["--workers", "2", "--scheduler", "local"]))
        runs: list[list[dict]] = [[] for _ in configs]
        for k in range(args.repeat):  # round robin: a change of the machine's load hits every configuration
            for c, (name, _, extra) in enumerate(configs):
                runs[c].append(run_once(work / "in", work / f"out_{c}_{k}", extra))
                print(f"  run {k + 1}/{args.repeat} {name}: {runs[c][-1]['wall_s']:.2f} s "
                      f"(phase 3 {runs[c][-1]['phase3_s']:.2f} s), load {os.getloadavg()[0]:.2f}", flush=True)
        rows = [(name, work / f"out_{c}_0", statistics.median(o["wall_s"] for o in runs[c]),
                 statistics.median(o["phase3_s"] for o in runs[c]), statistics.median(o["cpu_s"] for o in runs[c]))
                for c, (name, _, _) in enumerate(configs)]
        serial_wall, serial_p3 = rows[0][2], rows[0][3]
        print(f"\n{'engine':<22} {'run wall s':>10} {'phase 3 s':>10} {'CPU s':>7} {'speedup run':>12} "
              f"{'speedup ph3':>12} {'identical':>10}")
        for name, out, wall, p3, cpu in rows:
            same = "ref" if out == rows[0][1] else ("yes" if identical_outputs(rows[0][1], out) else "NO")
            print(f"{name:<22} {wall:>10.2f} {p3:>10.2f} {cpu:>7.1f} {serial_wall / wall:>12.2f} "
                  f"{serial_p3 / p3:>12.2f} {same:>10}")
        print("(CPU s: user + system time of the run and its workers; a speedup needs idle cores)")
        print(f"\nload average after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
        return 0 if all(out == rows[0][1] or identical_outputs(rows[0][1], out) for _, out, *_ in rows) else 1
    finally:
        if not (args.keep or args.workdir):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
