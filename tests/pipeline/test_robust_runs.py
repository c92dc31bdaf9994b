"""Robust runs (issue 15): per-frame failures reject the frame and the run goes on; the group reference is
chosen for quality; one run per output folder; --overwrite; interruption."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from run_folders import copy_frames, read_report
from zemosaic.align import fft as align_fft
from zemosaic.align import group as align_group
from zemosaic.pipeline import master_tile
from zemosaic.pipeline.run import run_mosaic


def _rejected(out: Path) -> dict[str, str]:
    return {Path(r["path"]).name: r["reason"] for r in read_report(out)["rejected_inputs"]}


# --- (A) per-frame failures ------------------------------------------------------------------------------
def test_phase_correlate_constant_plane_has_no_confidence():
    zero = np.zeros((64, 64), np.float32)
    rng = np.random.default_rng(0)
    shift = align_fft.phase_correlate(rng.normal(size=(64, 64)).astype(np.float32), zero)
    assert shift.confidence == 0.0 and np.isfinite(shift.dy) and np.isfinite(shift.dx)
    assert align_fft.fft_overlap_rect((64, 64), float("nan"), 0.0) == (0, 0, 0, 0)


def test_all_zero_frame_in_alignment_fails_that_frame_only():
    rng = np.random.default_rng(1)
    ref = rng.normal(100, 5, size=(128, 128)).astype(np.float32)
    out = align_group.align_images_in_group([ref, np.zeros_like(ref), ref.copy()], 0, propagate_mask=True)
    assert [a.method for a in out][0] == "reference"
    assert out[1].method == "failed" and "FFT fallback rejected" in out[1].reason
    assert out[2].method != "failed"


@pytest.mark.parametrize("step", ["find", "warp"])  # measuring the transform, or warping onto the grid
def test_unexpected_error_in_one_frame_fails_that_frame_only(monkeypatch, step):
    rng = np.random.default_rng(2)
    base = rng.normal(100, 5, size=(128, 128)).astype(np.float32)
    frames = [base, base.copy(), base.copy()]
    real = getattr(align_group._Group, step)

    def flaky(self, frame, *args):
        if frame is frames[1]:
            raise RuntimeError("boom in frame 1")
        return real(self, frame, *args)

    monkeypatch.setattr(align_group._Group, step, flaky)
    out = align_group.align_images_in_group(frames, 0)
    assert out[1].method == "failed" and "RuntimeError: boom in frame 1" in out[1].reason
    assert out[2].method != "failed"


def test_all_zero_frame_is_rejected_and_run_goes_on(tiny_frames, tmp_path):
    paths = copy_frames(tiny_frames, tmp_path / "in")
    with fits.open(paths[1], mode="update") as hdul:
        hdul[0].data[...] = 0
    result = run_mosaic(tmp_path / "in", tmp_path / "out")
    assert result.n_tiles == 4 and result.n_frames_used == len(paths) - 1
    assert _rejected(tmp_path / "out") == {paths[1].name: "constant image (every pixel = 0): no signal"}


def test_choose_reference_skips_poor_central_frame():
    q = master_tile._FrameQuality
    good = [q(40, 100.0, 5.0), q(38, 101.0, 5.0), q(42, 99.0, 5.0)]
    assert master_tile._choose_reference(good, ["a", "b", "c"]) == 0
    starless = [q(0, 100.0, 5.0)] + good[1:]
    assert master_tile._choose_reference(starless, ["a", "b", "c"]) == 1
    cloudy = [q(40, 400.0, 5.0)] + good[1:]
    assert master_tile._choose_reference(cloudy, ["a", "b", "c"]) == 1


def test_starless_central_frame_is_not_the_reference(tiny_frames, tmp_path):
    paths = copy_frames(tiny_frames, tmp_path / "in")
    run_mosaic(tiny_frames, tmp_path / "out0")
    refs = [Path(g["reference"]).name for g in read_report(tmp_path / "out0")["groups"]]
    victim = tmp_path / "in" / refs[0]
    with fits.open(victim, mode="update") as hdul:  # clouds: smooth bright sky, no star
        data = hdul[0].data
        hdul[0].data = np.full_like(data, int(np.median(data)) + 500) + np.random.default_rng(0).integers(
            0, 20, size=data.shape).astype(data.dtype)
    run_mosaic(tmp_path / "in", tmp_path / "out")
    tile0 = read_report(tmp_path / "out")["tiles"][0]
    reference = [Path(f["path"]).name for f in tile0["frames"] if f["method"] == "reference"]
    assert reference and reference[0] != victim.name
    assert len(paths) == 12


def test_frame_of_another_size_is_rejected_not_the_majority(tiny_frames, tmp_path):
    copy_frames(tiny_frames, tmp_path / "in")
    run_mosaic(tiny_frames, tmp_path / "out0")
    ref = Path(read_report(tmp_path / "out0")["groups"][0]["reference"]).name
    with fits.open(tmp_path / "in" / ref, mode="update") as hdul:
        hdul[0].data = np.ascontiguousarray(hdul[0].data[:300, :200])
    result = run_mosaic(tmp_path / "in", tmp_path / "out")
    rejected = _rejected(tmp_path / "out")
    assert list(rejected) == [ref] and "differs from the group's majority" in rejected[ref]
    assert result.n_tiles == 4 and result.n_frames_used == 11


def test_unexpected_error_in_one_tile_skips_that_tile(tiny_frames, tmp_path, monkeypatch):
    from zemosaic.pipeline import run as pipeline_run

    real = pipeline_run.create_master_tile

    def flaky(members, tile_id, *args, **kwargs):
        if tile_id == 2:
            raise RuntimeError("unforeseen")
        return real(members, tile_id, *args, **kwargs)

    monkeypatch.setattr(pipeline_run, "create_master_tile", flaky)
    result = run_mosaic(tiny_frames, tmp_path / "out")
    assert result.n_tiles == 3
    reasons = set(_rejected(tmp_path / "out").values())
    assert reasons == {"master tile 2 failed (RuntimeError: unforeseen)"}


# --- (B) one run per output folder, --overwrite --------------------------------------------------------
def test_live_lock_refuses_a_second_run_and_stale_lock_is_taken_over(tiny_frames, tmp_path):
    import os
    import socket
    import subprocess
    import sys

    from zemosaic.pipeline import lock
    from zemosaic.pipeline.run import RunFolderError

    out = tmp_path / "out"
    out.mkdir()
    lock_file = out / lock.LOCK_NAME
    lock_file.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": "now"}))
    with pytest.raises(RunFolderError, match=f"in use by another zemosaic run \\(pid {os.getpid()}"):
        run_mosaic(tiny_frames, out)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock_file.write_text(json.dumps({"pid": int(dead.stdout), "host": socket.gethostname(), "started": "then"}))
    (out / "master_tiles" / "zemosaic_raw_abc123").mkdir(parents=True)  # what a kill -9 leaves
    (out / ".mosaic.fits.x1y2.part").write_bytes(b"half")
    result = run_mosaic(tiny_frames, out, resume=True)
    assert result.n_tiles == 4 and not lock_file.exists()
    assert sorted(p.name for p in (out / "master_tiles").iterdir() if not p.name.startswith("master_tile_")) == []
    assert not (out / ".mosaic.fits.x1y2.part").exists()


def test_overwrite_removes_only_our_outputs(tiny_frames, tmp_path):
    from zemosaic.pipeline.run import RunFolderError

    out = tmp_path / "out"
    run_mosaic(tiny_frames, out, {"write_wcs_sidecars": False})
    (out / "notes.txt").write_text("mine")
    (out / "master_tiles" / "master_tile_009.fits").write_bytes(b"old tile of ours")
    (out / "master_tiles" / "my_tile.fits").write_bytes(b"not ours")
    with pytest.raises(RunFolderError, match="not empty"):
        run_mosaic(tiny_frames, out)
    run_mosaic(tiny_frames, out, overwrite=True)
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "master_tiles" / "my_tile.fits").read_bytes() == b"not ours"
    assert not (out / "master_tiles" / "master_tile_009.fits").exists()
    assert sorted(p.name for p in (out / "master_tiles").glob("master_tile_*.fits")) == [
        f"master_tile_00{k}.fits" for k in range(4)]
    assert read_report(out)["status"] == "ok"


# --- (D) disk ------------------------------------------------------------------------------------------
def test_not_enough_free_space_stops_with_the_figure_and_exit_3(tiny_frames, tmp_path, monkeypatch, capsys):
    import collections
    import errno

    from zemosaic import cli
    from zemosaic.stack import frame_cache

    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(frame_cache.shutil, "disk_usage", lambda p: usage(1 << 30, 1 << 30, 10 << 20))
    out = tmp_path / "out"
    with pytest.raises(OSError) as err:
        run_mosaic(tiny_frames, out)
    assert err.value.errno == errno.ENOSPC and "MB free" in err.value.strerror
    report = read_report(out)
    assert report["status"] == "disk_error" and "needs" in report["error"]
    assert not [p for p in out.rglob("zemosaic_*_*") if p.is_dir()]
    code = cli.main(["run", str(tiny_frames), "-o", str(tmp_path / "out2")])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == cli.EXIT_OS_ERROR == 3
    assert lines[-1].startswith("zemosaic: error: ") and "master_tiles" in lines[-1] and "needs" in lines[-1]
