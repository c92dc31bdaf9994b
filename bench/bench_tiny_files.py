"""The 2000-tiny-files folder of issue 31: a night's good frames among thousands of 16 x 16 thumbnails without a WCS.

Writes a synthetic 2x2 session (16 frames with header WCS, 240 x 360 px) and ``--thumbnails`` FITS thumbnails of
16 x 16 px without a WCS (half of them with a Seestar pointing hint, RA/DEC + FOCALLEN/XPIXSZ), runs
``zemosaic run`` on the folder as a user would (a subprocess, progress on stderr), and prints the wall time, the
frames stacked, the thumbnails rejected and their reasons, and the progress lines of Phase 1b. Before issue 31 each
thumbnail went to a blind solve (0.77 s each with solve-field: 26 minutes for 2000).

    python bench/bench_tiny_files.py [--thumbnails 2000] [--work DIR]

The same run on the good frames alone follows, in the same conditions: the difference is what the thumbnails cost
(on a loaded machine the absolute times are noise; the difference and the phases say where the time goes).
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from astropy.io import fits

from zemosaic.synthetic.generator import SynthSpec, generate_dataset

SPEC = SynthSpec(panels=(2, 2), frames_per_panel=4, width=240, height=360, pixel_scale_arcsec=4.8, seed=31)


def make_folder(folder: Path, n_thumbnails: int) -> int:
    """The good frames and ``n_thumbnails`` thumbnails in ``folder``; the number of good frames."""
    dataset = generate_dataset(folder, SPEC)
    rng = np.random.default_rng(31)
    for k in range(n_thumbnails):
        header = fits.Header()
        if k % 2:  # a Seestar-like pointing hint near the session, no WCS
            header["RA"], header["DEC"] = 83.8 + rng.normal(0, 0.2), -5.4 + rng.normal(0, 0.2)
            header["FOCALLEN"], header["XPIXSZ"] = 250.0, 2.9
        data = rng.integers(0, 65535, (16, 16)).astype(np.uint16)
        fits.PrimaryHDU(data, header).writeto(folder / f"thumb_{k:05d}.fits")
    return len(dataset.frame_paths)


def run(folder: Path, out: Path, extra: list[str]) -> tuple[float, int, str]:
    cmd = [sys.executable, "-m", "zemosaic.cli", "run", str(folder), "-o", str(out), *extra]
    env = dict(os.environ, ZEMOSAIC_NUMBA_WARMUP="0")
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    return time.perf_counter() - start, proc.returncode, proc.stderr


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--thumbnails", type=int, default=2000)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="zemosaic_tiny_"))
    folder = work / "in"
    n_good = make_folder(folder, args.thumbnails)
    print(f"folder: {folder}: {n_good} good frames + {args.thumbnails} thumbnails of 16 x 16 px without a WCS")
    print(f"load average: {os.getloadavg()[0]:.2f}")
    wall, code, stderr = run(folder, work / "out", ["--set", "plate_solver=auto"])
    report = json.loads((work / "out" / "run_report.json").read_text())
    status = collections.Counter(e["status"] for e in report["input_files"])
    thumbs = [e for e in report["input_files"] if Path(e["path"]).name.startswith("thumb_")]
    reasons = collections.Counter((e["reason"] or "").split("not plate-solved: ")[-1].split(" (")[0]
                                  for e in thumbs)
    stacked = sum(t["frames_used"] for t in report["tiles"])
    print(f"exit {code}; wall {wall:.1f} s; status {report['status']}; input files {dict(status)}")
    print(f"good frames stacked: {stacked} of {n_good}; thumbnails rejected: "
          f"{sum(e['status'] == 'rejected' for e in thumbs)} of {len(thumbs)}")
    for reason, n in reasons.most_common():
        print(f"  {n:5d} x {reason}")
    print("phase timings (s):", {k: round(v, 1) for k, v in report["phase_timings_s"].items()})
    print("progress lines of Phase 1 / 1b (stderr):")
    for line in stderr.splitlines():
        if line.strip().startswith(("scan", "solve")):
            print("  " + line.strip())
    alone = work / "good_only"
    alone.mkdir()
    for path in sorted(folder.glob("Light_*.fit")):
        (alone / path.name).symlink_to(path)
    wall_alone, code_alone, _ = run(alone, work / "out_good_only", [])
    print(f"the good frames alone: exit {code_alone}; wall {wall_alone:.1f} s; the {args.thumbnails} thumbnails "
          f"cost {wall - wall_alone:+.1f} s ({wall / wall_alone:.2f}x); load average now {os.getloadavg()[0]:.2f}")
    return 0 if code == 0 and stacked == n_good else 1


if __name__ == "__main__":
    sys.exit(main())
