"""The mode selector of the settings panel, and an SDS run through the window (pytest-qt, offscreen)."""
from __future__ import annotations

import json
import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings  # noqa: E402

from zemosaic.gui.main_window import MainWindow  # noqa: E402
from zemosaic.gui.settings_panel import SettingsPanel  # noqa: E402
from zemosaic.synthetic.generator import SynthSpec, generate_dataset  # noqa: E402


def test_the_settings_panel_offers_the_modes(qtbot):
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    combo = panel.widget("mode")
    assert [combo.itemData(k) for k in range(combo.count())] == ["auto", "tiles", "grid", "sds"]
    combo.setCurrentIndex(combo.findData("grid"))
    panel.widget("grid_tile_size_px").setValue(300)
    cfg = panel.config()
    assert cfg.mode == "grid" and cfg.grid_tile_size_px == 300


def test_an_sds_run_through_the_window(qtbot, tmp_path):
    frames = tmp_path / "frames"
    generate_dataset(frames, SynthSpec(panels=(2, 1), frames_per_panel=3, width=240, height=360,
                                       pixel_scale_arcsec=4.8, seed=4))
    window = MainWindow(settings=QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    out = tmp_path / "out"
    window.set_folders(frames, out)
    combo = window.settings_panel.widget("mode")
    combo.setCurrentIndex(combo.findData("sds"))
    with qtbot.waitSignal(window.runFinished, timeout=180_000) as blocker:
        assert window.start_run()
    assert blocker.args == ["ok"], window.message_text() + window.summary_text()
    report = json.loads((out / "run_report.json").read_text())
    assert report["mode"] == "sds" and report["config"]["mode"] == "sds"
    assert "[SDS] Phase 5 polish on global SDS mosaic (skipping master tiles)" in (out / "zemosaic.log").read_text()
    assert window.preview.view.has_image()


def test_a_stack_plan_makes_the_window_run_grid(qtbot, tmp_path):
    """Mode left on auto: the folder's stack_plan.csv makes the run a GRID run, through the window."""
    frames = tmp_path / "frames"
    ds = generate_dataset(frames, SynthSpec(panels=(2, 1), frames_per_panel=3, width=240, height=360,
                                            pixel_scale_arcsec=4.8, seed=4))
    rows = ["file_path,exposure,batch"] + [f"{f.path.name},10,night1" for f in ds.frames]
    (frames / "stack_plan.csv").write_text("\n".join(rows) + "\n")
    window = MainWindow(settings=QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    out = tmp_path / "out"
    window.set_folders(frames, out)
    assert window.settings_panel.widget("mode").currentData() == "auto"
    window.settings_panel.widget("grid_tile_size_px").setValue(200)
    with qtbot.waitSignal(window.runFinished, timeout=180_000) as blocker:
        assert window.start_run()
    assert blocker.args == ["ok"], window.message_text() + window.summary_text()
    report = json.loads((out / "run_report.json").read_text())
    assert report["mode"] == "grid" and report["config"]["grid_tile_size_px"] == 200
    assert report["mode_info"]["n_grid_tiles"] > 1 and (out / "frames.csv").is_file()
    assert "[GRID] Invoking grid_mode.run_grid_mode(...): no Phase 3" in (out / "zemosaic.log").read_text()
    assert window.preview.view.has_image()
