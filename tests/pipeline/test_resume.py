"""--resume after a kill -9 (issue 15 C): the resumed run reuses the finished master tiles, produces the mosaic of
an uninterrupted run bit for bit, and leaves nothing of the killed run behind."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from zemosaic.pipeline.run import run_mosaic

# log markers (zemosaic.log) at which the run is killed, and the phase each stands for
MOMENTS = {
    "alignment": "Phase 3: Master Tiles",
    "stack": "aligned group of",
    "second_tile": "master tile 1 written",
    "assembly": "PHASE_UPDATE:5",
    "write": "PHASE_UPDATE:6",
    "scan": "PHASE_UPDATE:1",
    "last_tile": "master tile 3 written",
    "harmony": "PHASE_UPDATE:4",
}


def _cli(input_dir: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "zemosaic.cli", "run", str(input_dir), "-o", str(out), *extra]


def _kill_at(input_dir: Path, out: Path, marker: str, extra: tuple[str, ...] = ()) -> bool:
    """Start a run and SIGKILL it as soon as ``marker`` appears in its log; True if it was killed running."""
    proc = subprocess.Popen(_cli(input_dir, out, *extra), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = out / "zemosaic.log"
    deadline = time.monotonic() + 120
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if log.is_file() and marker in log.read_text(errors="replace"):
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.005)
    finally:
        proc.wait(timeout=60)
    return proc.returncode == -signal.SIGKILL


def _listing(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*"))


def _assert_same_as_reference(out: Path, reference: Path) -> None:
    with fits.open(out / "mosaic.fits") as got, fits.open(reference / "mosaic.fits") as want:
        assert got[0].data.shape == want[0].data.shape
        assert np.array_equal(got[0].data, want[0].data, equal_nan=True)
        assert np.array_equal(got["WEIGHT"].data, want["WEIGHT"].data, equal_nan=True)
        assert got[0].header.tostring() == want[0].header.tostring()
    assert _listing(out) == _listing(reference)  # nothing left behind (no cache, temp file or lock)
    report = json.loads((out / "run_report.json").read_text())
    assert report["status"] == "ok" and report["rejected_inputs"] == []


def _kill_and_resume(tiny_run, tmp_path: Path, moments: list[str]) -> list[dict]:
    input_dir, reference = tiny_run
    resumes = []
    for k, moment in enumerate(moments):
        out = tmp_path / f"out_{k}_{moment}"
        assert _kill_at(input_dir, out, MOMENTS[moment]), f"the run finished before {moment}"
        done = subprocess.run(_cli(input_dir, out, "--resume"), capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        _assert_same_as_reference(out, reference)
        resumes.append(json.loads((out / "run_report.json").read_text())["resume"])
    return resumes


def test_resume_after_kill_9_gives_the_uninterrupted_mosaic(tiny_run, tmp_path):
    resumes = _kill_and_resume(tiny_run, tmp_path, ["stack", "assembly", "write"])
    assert len(resumes[0]["rebuilt"]) >= 1  # killed in tile 0: it is rebuilt
    assert resumes[1] == {"reused": [0, 1, 2, 3], "rebuilt": []}  # killed after Phase 3: every tile reused
    assert resumes[2]["reused"] == [0, 1, 2, 3]


@pytest.mark.slow
def test_resume_after_kill_9_at_many_moments(tiny_run, tmp_path):
    _kill_and_resume(tiny_run, tmp_path, ["scan", "alignment", "stack", "second_tile", "last_tile", "harmony",
                                         "assembly", "write"])


def test_resume_rebuilds_a_tile_whose_input_or_settings_changed(tiny_run, tmp_path):
    input_dir, reference = tiny_run
    out = tmp_path / "out"
    run_mosaic(input_dir, out)
    again = run_mosaic(input_dir, out, resume=True)
    report = json.loads((out / "run_report.json").read_text())
    assert report["resume"] == {"reused": [0, 1, 2, 3], "rebuilt": []}
    assert again.n_tiles == 4
    _assert_same_as_reference(out, reference)
    run_mosaic(input_dir, out, {"stack_sigma_high": 2.5}, resume=True)
    assert json.loads((out / "run_report.json").read_text())["resume"]["reused"] == []
    manifest = json.loads((out / "master_tiles" / "master_tile_000.json").read_text())
    assert len(manifest["inputs"]["frames"][0]["sha256"]) == 64


def test_sigterm_stops_the_run_with_one_line(tiny_run, tmp_path):
    input_dir, _ = tiny_run
    out = tmp_path / "out"
    proc = subprocess.Popen(_cli(input_dir, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = out / "zemosaic.log"
    while proc.poll() is None and not (log.is_file() and "aligned group of" in log.read_text(errors="replace")):
        time.sleep(0.005)
    start = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - start < 10
    assert proc.returncode == 143
    lines = [line for line in err.splitlines() if line.startswith("zemosaic:")]
    assert len(lines) == 1 and "interrupted by SIGTERM during phase 3_master_tiles" in lines[0]
    assert "Traceback" not in err
    report = json.loads((out / "run_report.json").read_text())
    assert report["status"] == "interrupted"
    assert report["interrupted"] == {"signal": "SIGTERM", "phase": "3_master_tiles"}
    left = [p.name for p in out.rglob("*")]
    assert not [n for n in left if n.startswith(("zemosaic_raw", "zemosaic_aligned", "zemosaic_valid", "."))
                or n.endswith(".part")], left
