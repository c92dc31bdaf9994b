"""Whole-run speed at Seestar size: wall time, frames/s, per-phase wall and CPU seconds, peak RSS.

What the user waits for is the whole run, not a kernel. This bench generates (once, cached) a 2x2 Alt-Az mosaic of
full-size Seestar S50 frames (1080 x 1920 GRBG, ``--frames-per-panel`` per panel, seed 7), with header WCS and/or
without (the WCS-less set is plate solved), then runs ``python -m zemosaic run`` on it once per code tree given,
side by side in one invocation, and prints one table per data set.

Each run is a separate process (``PYTHONPATH=<tree>``), so "before" and "after" are two checkouts::

    git worktree add /tmp/before <commit>
    python bench/bench_full_run.py --tree before=/tmp/before --tree after=. --wcs header,none
    python bench/bench_full_run.py --tree serial=. --tree par=. --tree-set par:max_workers=0 --wcs header

The first run of a tree compiles its numba kernels (cached afterwards): each tree is warmed once on a small set
before it is timed (``--cold`` times the first run instead).

Targets (issue #30, on the 2-core reference machine, idle): >= 2 frames/s with header WCS, >= 1.6 frames/s
WCS-less; peak RSS flat in the number of frames (compare ``--frames-per-panel 12`` with ``50``). The per-phase
CPU/wall ratio says whether the two cores are busy. ``uptime``'s load is printed with the figures: a loaded machine
gives slower walls, not a different code path.
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
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class RunFigures:
    tree: str
    wall_s: float
    frames: int
    peak_rss_mb: float
    cpu_s: float
    phases: dict[str, float]
    phases_cpu: dict[str, float]
    status: str

    @property
    def frames_per_s(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else float("nan")


def generate(folder: Path, frames_per_panel: int, header_wcs: bool) -> Path:
    """The data set, generated once into ``folder`` (reused when its truth's ``frames.json`` exists)."""
    if (folder / "truth" / "frames.json").exists() or (folder / "frames.json").exists():  # now / older generators
        return folder
    sys.path.insert(0, str(ROOT))
    from zemosaic.synthetic.generator import SynthSpec, generate_dataset

    # real_stars: the Tycho-2 sky, so that the WCS-less set can be plate solved; the two sets share their pixels
    spec = SynthSpec(panels=(2, 2), frames_per_panel=frames_per_panel, width=1080, height=1920, seed=7,
                     real_stars="auto", hint_error_arcmin=5.0, header_wcs=header_wcs)
    print(f"generating {folder} ...", flush=True)
    generate_dataset(folder, spec)
    return folder


def run_once(tree: str, tree_path: Path, data: Path, out: Path, extra: list[str]) -> RunFigures:
    """One whole run in its own process; its rusage gives CPU time and peak RSS."""
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, PYTHONPATH=str(tree_path), ZEMOSAIC_NUMBA_WARMUP="0")
    cmd = [sys.executable, "-m", "zemosaic", "run", str(data), "-o", str(out), *extra]
    start = time.perf_counter()
    with open(out.parent / f"{out.name}.log", "w") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tree_path)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    report = json.loads((out / "run_report.json").read_text()) if (out / "run_report.json").exists() else {}
    frames = sum(int(t.get("frames_used") or 0) for t in report.get("tiles", []))
    return RunFigures(tree, wall, frames, usage.ru_maxrss / 1024.0, usage.ru_utime + usage.ru_stime,
                      report.get("phase_timings_s", {}), report.get("phase_cpu_s", {}),
                      report.get("status", f"exit status {os.waitstatus_to_exitcode(status)}"))


def warm(tree_path: Path) -> None:
    """Fill the tree's numba cache (``python -m zemosaic._numba_warmup``: the pipeline rehearsed on thumbnails)."""
    env = dict(os.environ, PYTHONPATH=str(tree_path))
    subprocess.run([sys.executable, "-m", "zemosaic._numba_warmup"], env=env, cwd=tree_path, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def print_table(title: str, runs: list[RunFigures]) -> None:
    print(f"\n== {title}  (load {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores)")
    base = runs[0]
    print(f"{'tree':<10} {'wall s':>8} {'frames/s':>9} {'x first':>8} {'CPU s':>7} {'CPU/wall':>8} "
          f"{'peak RSS MB':>11}  status")
    for r in runs:
        print(f"{r.tree:<10} {r.wall_s:8.1f} {r.frames_per_s:9.2f} {base.wall_s / r.wall_s:8.2f} {r.cpu_s:7.1f} "
              f"{r.cpu_s / r.wall_s:8.2f} {r.peak_rss_mb:11.0f}  {r.status} ({r.frames} frames stacked)")
    phases = sorted({p for r in runs for p in r.phases}, key=_phase_order)
    print(f"{'phase':<22}" + "".join(f" {r.tree + ' wall':>14} {'cpu/wall':>8}" for r in runs))
    for p in phases:
        cells = []
        for r in runs:
            w, c = r.phases.get(p), r.phases_cpu.get(p)
            ratio = f"{c / w:8.2f}" if (w and c is not None) else f"{'-':>8}"
            cells.append(f" {w if w is not None else float('nan'):14.1f} {ratio}")
        print(f"{p:<22}" + "".join(cells))


def _phase_order(name: str) -> tuple[float, str]:
    head = name.split("_", 1)[0]
    try:
        return float(head), name
    except ValueError:
        return 99.0, name


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tree", action="append", default=None, metavar="NAME=PATH",
                    help="a checkout to run (repeat for before/after); default: this one")
    ap.add_argument("--frames-per-panel", type=int, default=12)
    ap.add_argument("--wcs", default="header,none", help="header, none or both comma-separated")
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "zemosaic_bench_full_run",
                    help="where the generated sets are kept between runs")
    ap.add_argument("--repeat", type=int, default=1, help="runs per tree (the fastest is shown)")
    ap.add_argument("--cold", action="store_true", help="do not warm the numba caches before timing")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="passed to zemosaic run")
    ap.add_argument("--tree-set", action="append", default=[], metavar="NAME:KEY=VALUE",
                    help="a setting for one tree only, e.g. --tree par=. --tree-set par:max_workers=0")
    args = ap.parse_args(argv)
    trees = [t.split("=", 1) for t in (args.tree or [f"this={ROOT}"])]
    extra = [a for kv in args.set for a in ("--set", kv)]
    per_tree: dict[str, list[str]] = {}
    for item in args.tree_set:
        name, _, kv = item.partition(":")
        per_tree.setdefault(name, []).extend(["--set", kv])
    if not args.cold:
        for path in dict.fromkeys(Path(p).resolve() for _, p in trees):
            warm(path)
    for kind in [w.strip() for w in args.wcs.split(",") if w.strip()]:
        if kind not in ("header", "none"):
            ap.error(f"--wcs: {kind!r} is not 'header' or 'none'")
        data = generate(args.data / f"s50_2x2x{args.frames_per_panel}_{kind}", args.frames_per_panel,
                        kind == "header")
        runs = []
        for name, path in trees:
            best = min((run_once(name, Path(path).resolve(), data, args.data / f"out_{name}_{kind}",
                                 extra + per_tree.get(name, []))
                        for _ in range(args.repeat)), key=lambda r: r.wall_s)
            runs.append(best)
        print_table(f"2x2 x {args.frames_per_panel} frames 1080x1920, WCS {kind}", runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
