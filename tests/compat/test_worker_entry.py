"""The original's worker entry and its lecropper wrapper: what reaches the run, what comes back to the shell."""
import logging
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import lecropper
import zemosaic_worker as worker
from zemosaic.config import resolve_config
from zemosaic.pipeline.run import RunInterrupted


class _FakeRun:
    """Stands in for run_mosaic: records its arguments, relays one progress event, returns or raises."""

    def __init__(self, raises=None):
        self.raises, self.calls = raises, []

    def __call__(self, input_dir, output_dir, cfg, progress_callback=None, overwrite=False):
        self.calls.append(SimpleNamespace(input_dir=input_dir, cfg=cfg, progress=progress_callback,
                                          overwrite=overwrite))
        if progress_callback is not None:
            progress_callback(SimpleNamespace(phase="scan", done=1, total=1, message="", fraction=1.0))
        if self.raises is not None:
            raise self.raises
        return SimpleNamespace(summary_text=lambda elapsed_s=None: "mosaic: SUMMARY LINE")


@pytest.fixture
def fake_run(monkeypatch):
    fake = _FakeRun()
    monkeypatch.setattr(worker, "run_mosaic", fake)
    monkeypatch.setattr("zemosaic.cli.ProgressPrinter.__call__", lambda self, event: None, raising=False)
    return fake


def test_the_worker_passes_its_options_and_prints_the_summary(fake_run, tmp_path, capsys, caplog):
    config = tmp_path / "cfg.json"
    config.write_text('{"stacking_kappa_low": 2.5, "gui_theme": "dark"}')
    with caplog.at_level(logging.WARNING):
        code = worker.main([str(tmp_path / "in"), str(tmp_path / "out"), "--config", str(config),
                            "--max-raw-per-master-tile", "7"])
    assert code == 0 and "mosaic: SUMMARY LINE" in capsys.readouterr().out
    call = fake_run.calls[0]
    assert call.cfg.max_frames_per_tile == 7 and call.cfg.stack_sigma_low == 2.5 and call.overwrite
    assert call.progress is not None  # the first progress event logs the keys the original had and we ignore
    assert "gui_theme" in caplog.text


def test_without_the_cap_option_the_config_keeps_its_own(fake_run, tmp_path):
    assert worker.main([str(tmp_path / "in"), str(tmp_path / "out")]) == 0
    assert fake_run.calls[0].cfg.max_frames_per_tile == resolve_config().max_frames_per_tile


@pytest.mark.parametrize("signal_name, code", [("SIGTERM", 143), ("SIGINT", 130)])
def test_an_interrupted_worker_exits_with_the_signal_code(monkeypatch, tmp_path, capsys, signal_name, code):
    monkeypatch.setattr(worker, "run_mosaic", _FakeRun(raises=RunInterrupted(signal_name, "3_tiles")))
    assert worker.main([str(tmp_path / "in"), str(tmp_path / "out")]) == code
    assert f"interrupted by {signal_name}" in capsys.readouterr().err


def _tile_with_dark_band(layout):
    rng = np.random.default_rng(4)
    hwc = (400.0 + rng.normal(0.0, 4.0, (120, 160, 3))).astype(np.float32)
    hwc[:, :24] = 30.0 + rng.normal(0.0, 4.0, (120, 24, 3))  # a dark band at the left: the quality crop's target
    coverage = np.full((120, 160), 8.0, np.float32)
    coverage[:, 24:40] = 2.0  # under-covered columns just inside the crop: only the cropped coverage masks them
    if layout == "chw":
        return np.moveaxis(hwc, -1, 0).copy(), coverage
    if layout == "mono":
        return hwc.mean(axis=-1), coverage
    return hwc, coverage


@pytest.mark.parametrize("layout", ["hwc", "chw", "mono"])
def test_the_original_cfg_crops_tile_and_coverage_together(layout):
    tile, coverage = _tile_with_dark_band(layout)
    cfg = {"quality_crop_enabled": True, "altaz_cleanup_enabled": True, "altaz_min_coverage_abs": 3}
    out, alpha = worker._apply_lecropper_pipeline(tile, cfg, coverage=coverage, tile_id=1)
    rect = lecropper.detect_quality_crop_rect(tile if layout != "mono" else tile)
    assert rect is not None and rect[1] >= 20  # the dark band is cut
    y0, x0, y1, x1 = rect
    hw = (y1 - y0, x1 - x0)
    assert alpha.shape == hw
    expected_shape = (3, *hw) if layout == "chw" else (*hw, 3) if layout == "hwc" else hw
    assert out.shape == expected_shape
    # the cropped coverage drove the alpha: its under-covered columns are masked, the rest kept
    cropped = coverage[y0:y1, x0:x1]
    assert np.all(alpha[cropped < 3] == 0.0) and alpha[hw[0] // 2, -40] == pytest.approx(1.0)


def test_a_cfg_without_the_crop_leaves_the_tile_its_size():
    tile, coverage = _tile_with_dark_band("hwc")
    out, alpha = worker._apply_lecropper_pipeline(tile, {"altaz_cleanup_enabled": True}, coverage=coverage)
    assert out.shape == tile.shape and alpha.shape == tile.shape[:2]


def test_worker_paths_are_paths(fake_run, tmp_path):
    worker.main([str(tmp_path / "in"), str(tmp_path / "out")])
    assert isinstance(fake_run.calls[0].input_dir, Path)
