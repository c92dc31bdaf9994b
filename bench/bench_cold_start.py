"""Benchmark: the first run after installation against the second one (numba's compile-on-first-use tax).

    python bench/bench_cold_start.py                 # zemosaic demo, twice, in a fresh venv
    python bench/bench_cold_start.py --read-only     # the same with site-packages read-only for the runs
    python bench/bench_cold_start.py --warmup on     # the background compile even without a free core

The wheel is built from a copy of this tree and installed (``--no-deps``) in a fresh virtual environment whose
dependencies are borrowed from this interpreter's site-packages through a ``.pth`` path line (as the packaging
tests do: no download, and an editable install of zemosaic in this environment stays invisible). Each run gets
a fresh, empty home and cache folder (``HOME``, ``XDG_CACHE_HOME``; ``NUMBA_CACHE_DIR`` unset), and the same
one for both runs, so the first run finds no compiled kernel and the second finds what the first left.
``--read-only`` runs the demos with the venv's site-packages mounted read-only (Linux, root: ``unshare -m`` and a
read-only bind mount), as in a system-wide install, so numba must cache in the user's folder. Prints the wall and
CPU time of each run (CPU: user + system of the run and its children, steadier than wall time on a shared
machine), the run's own ``time:`` line, the load average and the difference.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_IGNORE = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", ".*cache", ".venv*", "shared",
                                 "bench", "tests", "*.fits", "*.fit", "*.png", "zemosaic_demo")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None, help="where the venv and runs go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the venv and the demo folders")
    parser.add_argument("--read-only", action="store_true", help="site-packages read-only for the runs (Linux, root)")
    parser.add_argument("--warmup", choices=("auto", "on", "off"), default="auto",
                        help="ZEMOSAIC_NUMBA_WARMUP: auto (when a core is free, the default), on (1), off (0)")
    parser.add_argument("--runs", type=int, default=2, help="demo runs in a row (default 2)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_cold_", dir=args.workdir)).resolve()
    try:
        venv = _install(work)
        home = work / "home"
        home.mkdir()
        runner = _read_only_runner(venv) if args.read_only else []
        times = []
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        for k in range(args.runs):
            out = home / f"demo_{k}"
            wall, cpu, line = _demo(venv, out, home, runner, warmup=args.warmup)
            times.append((wall, cpu))
            print(f"run {k + 1}: {wall:6.1f} s wall {cpu:6.1f} s CPU  ({line}; load {os.getloadavg()[0]:.2f})",
                  flush=True)
        print(f"\nfirst run - second run: {times[0][0] - times[1][0]:+.1f} s wall, "
              f"{times[0][1] - times[1][1]:+.1f} s CPU")
        for where in (home, venv):
            cache = sorted(p for p in where.rglob("*.nbi"))
            print(f"numba index files under {where}: {len(cache)}" + (f" (e.g. {cache[0].parent})" if cache else ""))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")


def _install(work: Path) -> Path:
    src = work / "src"
    shutil.copytree(ROOT, src, ignore=_IGNORE)
    wheels = work / "wheel"
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(src)]
    subprocess.run(cmd, check=True, cwd=work)
    wheel = next(wheels.glob("zemosaic-*.whl"))
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    outer = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "_outer_deps.pth").write_text("".join(f"{p}\n" for p in sorted(outer)))
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    return venv


def _read_only_runner(venv: Path) -> list:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        sys.exit("--read-only needs root and unshare (Linux)")
    site = next(venv.glob("lib/python*/site-packages"))
    script = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" "$0" && exec "$@"'
    return ["unshare", "-m", "sh", "-c", script, str(site)]


def _demo(venv: Path, out: Path, home: Path, runner: list, *, warmup: str) -> tuple:
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "NUMBA_CACHE_DIR"} and not k.startswith("ZEMOSAIC")}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}")
    env["ZEMOSAIC_NUMBA_WARMUP"] = {"auto": "auto", "on": "1", "off": "0"}[warmup]
    t0 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(runner + [str(venv / "bin" / "zemosaic"), "demo", "-o", str(out)], cwd=home, env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if proc.returncode != 0:
        raise RuntimeError(f"demo failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    match = re.search(r"^time: .*$", proc.stdout, re.MULTILINE)
    return wall, cpu, match.group(0) if match else "no time line"


if __name__ == "__main__":
    main()
