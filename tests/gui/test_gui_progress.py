"""The progress area and the log (pytest-qt, offscreen): plate-solving events, a whole-run ETA, an area of fixed
size, a log that reads from the start of its lines."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QPlainTextEdit  # noqa: E402

from zemosaic.gui.log_view import LogView  # noqa: E402
from zemosaic.gui.progress_view import PhaseProgress, overall_fraction  # noqa: E402
from zemosaic.progress import ProgressEvent  # noqa: E402


def test_overall_fraction_weighs_the_phases():
    assert overall_fraction({}) == 0.0
    assert overall_fraction({"scan": 1.0}) == pytest.approx(0.05 / 0.8)
    assert overall_fraction({"scan": 1.0, "solve": 0.5}) == pytest.approx((0.05 + 0.1) / 1.0)
    assert overall_fraction({"scan": 1.0, "sds": 1.0, "assemble": 1.0}) == pytest.approx(1.0)
    assert overall_fraction({"scan": 1.0, "solve": 1.0, "tiles": 1.0, "align": 0.3, "assemble": 1.0}) == 1.0


def test_plate_solving_and_the_whole_run_eta_in_a_fixed_area(qtbot):
    progress = PhaseProgress()
    qtbot.addWidget(progress.area)
    progress.area.show()
    height = progress.area.height()
    t0 = 1000.0
    progress.update_event(ProgressEvent("scan", 10, 10, "a.fit"), now=t0 + 1)
    progress.update_event(ProgressEvent("solve", 0, 10, "10 frame(s) without a WCS"), now=t0 + 1)
    assert progress.bar("solve").value() == 0 and "without a WCS" in progress.eta_text("solve")
    progress.update_event(ProgressEvent("solve", 4, 10, "f4.fit solved"), now=t0 + 9)
    assert progress.bar("solve").value() == 400 and progress.bar("solve").text() == "4/10"
    assert progress.eta_text("solve") == "12 s left"  # 8 s for 4 frames: 12 s for the 6 left
    # whole run: (0.05 + 0.2 * 0.4) / (0.05 + 0.2 + 0.55 + 0.2) = 13 % done in 8 s: 8 * 0.87 / 0.13 = 54 s left
    assert progress.overall_bar.value() == 130
    assert progress.overall_text() == "about 54 s left"
    for phase in ("tiles", "align", "stack", "assemble", "frames", "sds", "extra"):
        progress.update_event(ProgressEvent(phase, 1, 2, ""), now=t0 + 10)
    assert len(progress.phases()) == 9
    assert progress.area.height() == height  # the tabs below do not move
    for phase in progress.phases():
        progress.update_event(ProgressEvent(phase, 2, 2, ""), now=t0 + 30)
    assert progress.overall_text() == "done in 29 s"
    progress.clear()
    assert progress.phases() == [] and not progress.overall_bar.isVisible()


def test_the_log_wraps_and_reads_from_the_start_of_its_lines(qtbot):
    log = LogView()
    qtbot.addWidget(log)
    log.resize(400, 300)
    log.show()
    long = "MT_COVERAGE_STATS " + "x" * 600
    for k in range(50):
        log.add_record({"level": "INFO", "levelno": 20, "tag": "T", "message": f"{k} {long}", "time": 0})
    assert log.text.lineWrapMode() == QPlainTextEdit.LineWrapMode.WidgetWidth
    assert log.text.horizontalScrollBar().maximum() == 0  # wrapped: nothing sideways
    log.wrap_box.setChecked(False)
    assert log.text.horizontalScrollBar().maximum() > 0 and log.text.horizontalScrollBar().value() == 0
    log.set_filter(text="49 ")
    assert log.visible_lines()[0].split("[T] ")[1].startswith("49 MT_COVERAGE")
    assert log.text.horizontalScrollBar().value() == 0
