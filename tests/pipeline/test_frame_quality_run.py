"""The frame-quality gate in a run, on a generated night whose bad frames are known: rejected with their reason,
a partial obstacle left out of its frame's valid mask, the records (run_report.json, frames.csv, HISTORY),
``zemosaic inspect``, ``frame_exclude`` and ``--resume``."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from zemosaic.pipeline.inspect import inspect_frames
from zemosaic.pipeline.resume import _gate_changed
from zemosaic.pipeline.run import run_mosaic
from zemosaic.synthetic.generator import SynthSpec, generate_dataset

WHOLE_FRAME = {"cloud", "trail", "focus_drift"}


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    root = tmp_path_factory.mktemp("night")
    spec = SynthSpec(panels=(1, 1), frames_per_panel=12, width=540, height=960, bad_frame_fraction=0.34,
                     quality_defects=("cloud", "trail", "focus_drift", "obstacle"), seed=2, dither_px=6.0,
                     rotation_drift_deg=3.0, star_density_per_deg2=16000.0)
    ds = generate_dataset(root / "in", spec)
    truth = {f.path.name: dict(f.details.get("quality") or {}) for f in ds.frames}
    out = root / "out"
    run_mosaic(root / "in", out)
    report = json.loads((out / "run_report.json").read_text(encoding="utf-8"))
    return root, truth, report


def test_every_defect_is_present(night):
    _, truth, _ = night
    kinds = sorted(q["kind"] for q in truth.values() if q)
    assert kinds == ["cloud", "focus_drift", "obstacle", "trail"]


def test_bad_frames_are_rejected_with_their_reason_and_good_ones_kept(night):
    _, truth, report = night
    decisions = {Path(e["path"]).name: e for e in report["input_files"] if e.get("quality")}
    assert len(decisions) == 12
    for name, q in truth.items():
        entry = decisions[name]
        if q.get("kind") in WHOLE_FRAME:
            assert entry["status"] == "rejected", name
            assert "rejected for quality" in entry["reason"] and entry["quality"]["decision"] == "rejected"
        else:
            assert entry["status"] == "used" and entry["quality"]["decision"] == "kept", (name, entry["reason"])
    reasons = {truth[n]["kind"]: decisions[n]["quality"]["reason"] for n in truth if truth[n].get("kind") in
               WHOLE_FRAME}
    assert reasons["focus_drift"].startswith("FWHM")
    assert reasons["cloud"].startswith("transparency") or reasons["cloud"].startswith("sky")


def test_the_obstacle_is_left_out_of_its_frame_only(night):
    _, truth, report = night
    name = next(n for n, q in truth.items() if q.get("kind") == "obstacle")
    record = next(r for t in report["tiles"] for r in t["frame_quality"] if Path(r["path"]).name == name)
    covered = truth[name]["region_fraction"]
    assert record["masked_fraction"] == pytest.approx(covered, abs=0.12)
    assert record["masked_valid_fraction"] == pytest.approx(covered, abs=0.12)
    others = [r for t in report["tiles"] for r in t["frame_quality"] if Path(r["path"]).name != name]
    assert all(r["masked_fraction"] == 0 for r in others)


def test_frames_csv_and_the_tile_history(night):
    root, truth, report = night
    rows = list(csv.DictReader((root / "out" / "frames.csv").open(encoding="utf-8")))
    assert [r["file"] for r in rows] == sorted(truth, key=lambda n: n)  # time order (names carry the time)
    assert {r["decision"] for r in rows} == {"kept", "rejected"}
    fwhm = {r["file"]: float(r["fwhm_px"]) for r in rows if r["fwhm_px"]}
    focus = next(n for n, q in truth.items() if q.get("kind") == "focus_drift")
    good = [v for n, v in fwhm.items() if not truth[n]]
    assert fwhm[focus] / np.median(good) == pytest.approx(truth[focus]["fwhm_factor"], rel=0.15)
    header = fits.getheader(root / "out" / "master_tiles" / "master_tile_000.fits")
    history = [h for h in header["HISTORY"] if str(h).startswith("Q ")]
    assert len(history) == 12 and sum(" reje " in h for h in history) == 3
    assert report["frame_quality"]["rejected"] == 3 and report["frame_quality"]["partial"] == 1


def test_inspect_decides_as_the_run_does(night):
    root, truth, report = night
    result = inspect_frames(root / "in")
    assert len(result.rows) == 12
    run = {Path(e["path"]).name: e["quality"]["decision"] for e in report["input_files"] if e.get("quality")}
    assert {r["file"]: r["decision"] for r in result.rows} == run
    partial = [r for r in result.rows if r["masked_fraction"] > 0]
    assert [truth[r["file"]]["kind"] for r in partial] == ["obstacle"]


def test_resume_reuses_the_tile_when_the_decisions_stand_and_frame_exclude_rebuilds_it(night):
    root, truth, report = night
    again = run_mosaic(root / "in", root / "out", {"frame_reject_fwhm_k": 2.5}, resume=True)
    assert again.report_path.is_file()
    second = json.loads((root / "out" / "run_report.json").read_text(encoding="utf-8"))
    assert second["resume"] == {"reused": [0], "rebuilt": []}
    good = sorted(n for n, q in truth.items() if not q)[0]
    listing = root / "exclude.txt"
    listing.write_text(good + "\n", encoding="utf-8")
    run_mosaic(root / "in", root / "out", {"frame_exclude": str(listing)}, resume=True)
    third = json.loads((root / "out" / "run_report.json").read_text(encoding="utf-8"))
    assert third["resume"] == {"reused": [], "rebuilt": [0]}
    entry = next(e for e in third["input_files"] if Path(e["path"]).name == good)
    assert entry["status"] == "rejected" and "frame_exclude" in entry["reason"]
    assert third["frame_quality"]["excluded"] == [str(root / "in" / good)]


def test_a_setting_that_changes_the_decisions_invalidates_the_tile(night):
    from zemosaic.config import resolve_config

    _, _, report = night
    tile = report["tiles"][0]
    assert not _gate_changed(tile, resolve_config(overrides=["frame_reject_fwhm_k=2.5"]))
    assert _gate_changed(tile, resolve_config(overrides=["frame_reject_enabled=false"]))
    assert _gate_changed(tile, resolve_config(overrides=["frame_partial_enabled=false"]))
