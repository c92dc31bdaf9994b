"""Benchmark: our intra-group alignment against Siril's star registration, same frames, same run.

Generates N frames of the Seestar size (1080 x 1920, RGB) from one synthetic star catalogue, each
shifted and rotated by a known small amount, writes them as 3 x H x W float32 FITS for Siril and
keeps them in memory for ours. Times

* Siril 1.0.6 (``siril-cli``): ``register light -transf=<homography|similarity>`` (star detection,
  matching, interpolation of all channels, writing r_light_*.fits); its own log gives the time of the
  register step, and the wall time of the whole script is reported too;
* ours: ``alignment.align_images_in_group`` on the same frames (in memory, output kept in RAM).

Prints seconds per frame of the group (the time of the whole call divided by the number of frames;
Siril processes and writes the reference too, we return it as it is) and the ratio ours / Siril
(target <= 1.0), plus our accuracy against the known transforms. Usage::

    python bench/bench_align_vs_siril.py [--quick] [--frames N] [--keep DIR]

Needs ``siril-cli`` on PATH (``apt-get install -y siril``); without it only our side is timed.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from astropy.io import fits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zemosaic.align import group as alignment  # noqa: E402
from zemosaic.synthetic.generator import render_star_field  # noqa: E402

SIRIL_SCRIPT = """requires 1.0.0
setext fits
set32bits
cd lights
link light -out=../process
cd ../process
register light -transf={transf}
close
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 frames, one round")
    parser.add_argument("--frames", type=int, default=None, help="number of frames (default 10, quick 4)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="rounds, ours and Siril alternating; the best of each is kept (default 2, quick 1)")
    parser.add_argument("--keep", type=Path, default=None, help="work directory to keep (default: temp)")
    args = parser.parse_args(argv)
    n = args.frames or (4 if args.quick else 10)
    rounds = args.repeat or (1 if args.quick else 2)
    frames, truths = make_frames(n, (1080, 1920), seed=7)
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_align_"))
    siril_exe = shutil.which("siril-cli")
    if siril_exe is None:
        print("siril-cli not found: install it with `apt-get install -y siril` for the comparison")
    try:
        write_lights(frames, work / "lights")
        ours, siril = None, {}
        for _ in range(rounds):
            ours = _best(ours, time_ours(frames, truths))
            for transf in ("homography", "similarity") if siril_exe else ():
                siril[transf] = _best(siril.get(transf), time_siril(siril_exe, work, transf, n))
        _report(n, ours, siril)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def _best(old: dict | None, new: dict | None) -> dict | None:
    if old is None or new is None:
        return new or old
    return new if new["per_frame"] < old["per_frame"] else old


def _report(n: int, ours: dict, siril: dict) -> None:
    print(f"frames: {n} x 1080 x 1920 RGB float32 (frame 0 = reference); per frame = call time / {n}")
    print(f"ours   : {ours['per_frame']:.3f} s/frame (whole call {ours['total']:.2f} s); "
          f"max |d translation| {ours['dt']:.3f} px, max |d rotation| {ours['drot']:.4f} deg")
    for transf, res in siril.items():
        if res is None:
            continue
        print(f"siril  : register -transf={transf}: {res['per_frame']:.3f} s/frame (register step "
              f"{res['step']:.2f} s, script wall {res['wall']:.2f} s)")
        print(f"ratio ours/siril ({transf}) = {ours['per_frame'] / res['per_frame']:.2f}")


def make_frames(n: int, shape: tuple[int, int], seed: int) -> tuple[list[np.ndarray], list]:
    """Frames rendered from one catalogue through known transforms (frame 0 is the reference)."""
    rng = np.random.default_rng(seed)
    h, w = shape
    n_stars = 2500
    x = rng.uniform(-100, w + 100, n_stars)
    y = rng.uniform(-100, h + 100, n_stars)
    flux = 10 ** rng.uniform(2.3, 5.0, n_stars)
    colours = rng.uniform(0.6, 1.2, (n_stars, 3))
    frames, truths = [], []
    for k in range(n):
        t = (alignment.SimilarityTransform(0.0, 1.0, 0.0, 0.0) if k == 0 else alignment.SimilarityTransform(
            rng.uniform(-3, 3), 1.0, rng.uniform(-25, 25), rng.uniform(-25, 25)))
        inv = np.linalg.inv(t.matrix)
        fx = inv[0, 0] * x + inv[0, 1] * y + inv[0, 2]
        fy = inv[1, 0] * x + inv[1, 1] * y + inv[1, 2]
        sky = np.array([300.0, 350.0, 280.0], dtype=np.float32)
        img = render_star_field(shape, fx, fy, flux, colors=colours) + sky
        img += rng.normal(0.0, 8.0, img.shape).astype(np.float32)
        frames.append(img.astype(np.float32))
        truths.append(t)
    return frames, truths


def write_lights(frames: list[np.ndarray], folder: Path) -> None:
    """3 x H x W float32 FITS scaled to 0..1 (what Siril 1.0 keeps for float input)."""
    folder.mkdir(parents=True, exist_ok=True)
    for k, img in enumerate(frames):
        data = np.ascontiguousarray(np.moveaxis(img / 65535.0, -1, 0), dtype=np.float32)
        fits.PrimaryHDU(data).writeto(folder / f"light_{k:03d}.fits", overwrite=True)


def time_ours(frames: list[np.ndarray], truths: list) -> dict:
    alignment.align_images_in_group([f[:64, :64] for f in frames[:2]])  # compile the numba kernel
    t0 = time.perf_counter()
    res = alignment.align_images_in_group(frames, 0, propagate_mask=True)
    total = time.perf_counter() - t0
    dt = drot = 0.0
    for r, t in zip(res[1:], truths[1:], strict=True):
        if r.method != "astroalign":
            print(f"  frame aligned by {r.method}: {r.reason}")
            continue
        dt = max(dt, abs(r.transform.dx - t.dx), abs(r.transform.dy - t.dy))
        drot = max(drot, abs(r.transform.rotation_deg - t.rotation_deg))
    return {"total": total, "per_frame": total / len(frames), "dt": dt, "drot": drot}


def time_siril(exe: str, work: Path, transf: str, n: int) -> dict | None:
    for old in ("process",):
        shutil.rmtree(work / old, ignore_errors=True)
    (work / "process").mkdir()
    script = work / f"register_{transf}.ssf"
    script.write_text(SIRIL_SCRIPT.format(transf=transf))
    t0 = time.perf_counter()
    proc = subprocess.run([exe, "-d", str(work), "-s", str(script)], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    log = proc.stdout + proc.stderr
    registered = len(list((work / "process").glob("r_light_*.fits")))
    if proc.returncode != 0 or registered < n - 1:
        print(f"siril -transf={transf} failed (rc {proc.returncode}, {registered} frames):\n{log[-1500:]}")
        return None
    step = _register_seconds(log)
    if step is None:
        step = wall
    return {"wall": wall, "step": step, "per_frame": step / n}


def _register_seconds(log: str) -> float | None:
    """Siril prints 'Execution time: 1.23 s' (or 'mm:ss' style) after each step; take the register one."""
    after = log.split("register", 1)[-1]
    match = re.search(r"Execution time:\s*(?:(\d+)\s*m\s*)?([\d.]+)\s*(ms|s)", after)
    if not match:
        return None
    minutes = float(match.group(1) or 0)
    value = float(match.group(2)) / (1000.0 if match.group(3) == "ms" else 1.0)
    return 60.0 * minutes + value


if __name__ == "__main__":
    raise SystemExit(main())
