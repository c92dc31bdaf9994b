"""The desktop window (pytest-qt, offscreen): folders, settings JSON, a run to completion, Cancel, errors."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings  # noqa: E402

from zemosaic.config import ZeMosaicConfig, resolve_config  # noqa: E402
from zemosaic.gui.folders import folder_problems  # noqa: E402
from zemosaic.gui.main_window import MainWindow  # noqa: E402
from zemosaic.gui.run_controller import RunController  # noqa: E402
from zemosaic.gui.settings_panel import SettingsPanel  # noqa: E402
from zemosaic.synthetic.generator import SynthSpec, generate_dataset  # noqa: E402

RUN_TIMEOUT_MS = 180_000


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory) -> Path:
    """2x2 panels of 3 small frames, plus one file that is not a FITS image (rejected with its reason)."""
    folder = tmp_path_factory.mktemp("gui_data") / "frames"
    generate_dataset(folder, SynthSpec(panels=(2, 2), frames_per_panel=3, width=240, height=360,
                                       pixel_scale_arcsec=4.8, seed=3))
    (folder / "broken.fit").write_bytes(b"this is not a FITS file" * 50)
    return folder


def test_cli_import_does_not_import_pyside6():
    code = ("import sys, zemosaic.cli as c; c.build_parser(); "
            "assert not [m for m in sys.modules if m.startswith('PySide6')], 'PySide6 imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_gui_subcommand_is_listed():
    from zemosaic.cli import build_parser

    args = build_parser().parse_args(["gui", "--demo", "--screenshot", "x.png"])
    assert args.demo and args.screenshot == Path("x.png")


def test_bad_folders_are_said_in_the_window(window, tmp_path, small_dataset):
    empty = tmp_path / "empty"
    empty.mkdir()
    window.set_folders(empty, tmp_path / "out")
    assert not window.start_run()
    assert "holds no FITS file" in window.message_text()

    parent = tmp_path / "night"
    (parent / "lights").mkdir(parents=True)
    (parent / "lights" / "a.fits").write_bytes(b"x")
    window.set_folders(parent, tmp_path / "out")
    assert not window.start_run()
    assert "subfolder lights" in window.message_text()
    assert folder_problems(parent, tmp_path / "out", recursive=True) == []  # input_recursive searches them

    window.set_folders(small_dataset, small_dataset / "out")
    assert not window.start_run()
    assert "inside the input folder" in window.message_text()

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("x")
    window.set_folders(small_dataset, busy, existing_output="refuse")
    assert not window.start_run()
    assert "is not empty" in window.message_text()
    assert not window.controller.is_running()


def test_settings_json_round_trip(qtbot, tmp_path):
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    panel.widget("altaz_min_coverage_frac").setValue(0.55)
    panel.widget("altaz_morph_open_px").setValue(5)
    panel.widget("stack_rejection_algorithm").setCurrentIndex(
        panel.widget("stack_rejection_algorithm").findData("kappa_sigma"))
    panel.set_value("stack_winsor_limits", [0.1, 0.2])
    saved = tmp_path / "settings.json"
    cfg = panel.save_json(saved)
    assert cfg.altaz_min_coverage_frac == 0.55 and cfg.altaz_morph_open_px == 5
    assert resolve_config(config_file=saved) == cfg  # the JSON the CLI reads

    other = SettingsPanel()
    qtbot.addWidget(other)
    assert other.config() == ZeMosaicConfig()
    assert other.load_json(saved) == cfg
    assert other.config() == cfg
    again = tmp_path / "again.json"
    other.save_json(again)
    assert again.read_text() == saved.read_text()
    assert set(json.loads(saved.read_text())) == set(ZeMosaicConfig.__dataclass_fields__)


def test_a_bad_setting_is_refused_with_its_key(window, small_dataset, tmp_path):
    window.settings_panel.widget("stack_winsor_limits").setText("[0.7]")
    window.set_folders(small_dataset, tmp_path / "out")
    assert not window.start_run()
    assert "stack_winsor_limits" in window.message_text()


def test_run_through_the_window(window, qtbot, small_dataset, tmp_path):
    out = tmp_path / "out"
    window.set_folders(small_dataset, out)
    window.settings_panel.widget("altaz_min_coverage_frac").setValue(0.5)
    with qtbot.waitSignal(window.runFinished, timeout=RUN_TIMEOUT_MS) as blocker:
        assert window.start_run()
        assert window.controller.is_running() and window.cancel_button.isEnabled()
    assert blocker.args == ["ok"], window.message_text() + window.summary_text()

    for phase in ("scan", "tiles", "assemble"):
        bar = window.progress.bar(phase)
        assert bar is not None and bar.value() == bar.maximum(), phase
    assert window.tiles.count() == 4
    plain = window.tiles.pixmap(0).toImage()
    window.tiles.set_overlay("alpha")
    assert window.tiles.pixmap(0).toImage() != plain  # the ALPHA overlay is drawn
    assert window.preview.view.has_image()
    summary = window.summary_text()
    for k in range(4):
        assert f"master_tile_{k:03d}.fits" in summary
    assert "Rejected inputs (1)" in summary and "broken.fit" in summary
    report = json.loads((out / "run_report.json").read_text())
    assert report["config"]["altaz_min_coverage_frac"] == 0.5
    assert not window.controller.is_running() and window.run_button.isEnabled()

    lines = window.log_view.visible_lines()
    assert any("PHASE_UPDATE" in line for line in lines)
    window.log_view.set_filter(tag="MT_COVERAGE_STATS")
    filtered = window.log_view.visible_lines()
    assert filtered and all("[MT_COVERAGE_STATS]" in line for line in filtered)


def test_cancel_leaves_no_mosaic_and_no_cache(window, qtbot, small_dataset, tmp_path):
    out = tmp_path / "out"
    window.set_folders(small_dataset, out)

    def cancel_at_first_tile(event):
        if event.phase == "align":
            window.cancel_button.click()

    window.controller.progress.connect(cancel_at_first_tile)
    with qtbot.waitSignal(window.runFinished, timeout=RUN_TIMEOUT_MS) as blocker:
        assert window.start_run()
    assert blocker.args == ["interrupted"]
    assert "cancelled" in window.message_text() and "SIGTERM" in window.message_text()  # the run's own stop
    assert not (out / "mosaic.fits").exists() and not (out / "mosaic_preview.png").exists()
    leftovers = [p for p in out.rglob("*") if p.name.startswith("zemosaic_") or p.name.endswith(".part")]
    assert leftovers == []
    assert not (out / ".zemosaic.lock").exists()
    report = json.loads((out / "run_report.json").read_text())
    assert report["status"] == "interrupted"


def test_a_crashed_run_is_a_message(window, qtbot, small_dataset, tmp_path, monkeypatch):
    monkeypatch.setattr(RunController, "worker_module", "zemosaic.gui.no_such_worker")
    window.set_folders(small_dataset, tmp_path / "out")
    with qtbot.waitSignal(window.runFinished, timeout=60_000) as blocker:
        assert window.start_run()
    assert blocker.args == ["crash"]
    assert "The run failed" in window.message_text()
    assert "no_such_worker" in window.summary_text()
    assert window.isVisible() and window.run_button.isEnabled()


def test_window_state_persists(qtbot, tmp_path, small_dataset):
    settings_file = str(tmp_path / "gui.ini")
    first = MainWindow(settings=QSettings(settings_file, QSettings.Format.IniFormat))
    qtbot.addWidget(first)
    first.set_folders(small_dataset, tmp_path / "o", existing_output="resume")
    first.settings_panel.widget("altaz_min_coverage_abs").setValue(4.0)
    first.tiles.set_overlay("coverage")
    first.close()
    second = MainWindow(settings=QSettings(settings_file, QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    assert second.input_edit.text() == str(small_dataset)
    assert second.existing_box.currentData() == "resume"
    assert second.settings_panel.config().altaz_min_coverage_abs == 4.0
    assert second.tiles.overlay() == "coverage"
