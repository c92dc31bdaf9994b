"""The Frames tab and the sky map (pytest-qt, offscreen): filled from ``zemosaic inspect`` before any run, sorted
and filtered; a frame unticked there is left out of the run, and the report says why; drag and drop, recent
folders."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDropEvent  # noqa: E402

from zemosaic.gui.frame_list import exclude_list_path, sky_footprint, tangent_xy, write_exclude_list  # noqa: E402
from zemosaic.gui.main_window import MainWindow  # noqa: E402
from zemosaic.pipeline.inspect import inspect_frames  # noqa: E402
from zemosaic.quality.group import read_exclude_list, read_exclude_notes  # noqa: E402
from zemosaic.synthetic.generator import SynthSpec, generate_dataset  # noqa: E402

RUN_TIMEOUT_MS = 180_000


@pytest.fixture(scope="module")
def cloudy_dataset(tmp_path_factory) -> Path:
    """Two panels of 6 small frames, two of them under a cloud (rejected by the transparency rule)."""
    folder = tmp_path_factory.mktemp("frames_data") / "frames"
    generate_dataset(folder, SynthSpec(panels=(1, 2), frames_per_panel=6, width=240, height=360,
                                       pixel_scale_arcsec=4.8, seed=3, bad_frame_fraction=0.2,
                                       quality_defects=("cloud",)))
    return folder


def _measured(window: MainWindow, qtbot, folder: Path) -> list[dict]:
    with qtbot.waitSignal(window.frames.measured, timeout=120_000) as blocker:
        assert window.choose_input(folder)
    assert blocker.args == [True], window.frames.status.text()
    return window.frames.model.rows


def test_the_table_is_zemosaic_inspect_before_any_run(window, qtbot, cloudy_dataset):
    rows = _measured(window, qtbot, cloudy_dataset)
    truth = inspect_frames(cloudy_dataset)
    assert [r["file"] for r in rows] == [r["file"] for r in truth.rows]
    for mine, theirs in zip(rows, truth.rows, strict=True):
        for key in ("tile_id", "n_stars", "fwhm_px", "transparency", "weight", "decision", "reason"):
            assert mine[key] == theirs[key], key
    rejected = [r["file"] for r in truth.rows if r["decision"] == "rejected"]
    assert len(rejected) == 2 and {r["solve"] for r in rows} == {"header"}
    assert "12 frames in 2 tile groups: 10 kept, 2 rejected" in window.frames.status.text()

    # filters: rejected only, one tile; sorting by a measure
    window.frames.rejected_only.setChecked(True)
    assert sorted(window.frames.visible_files()) == sorted(rejected)
    window.frames.rejected_only.setChecked(False)
    window.frames.show_tile(1)
    assert sorted(window.frames.visible_files()) == sorted(r["file"] for r in rows if r["tile_id"] == 1)
    window.frames.show_tile(None)
    window.frames.table.sortByColumn(5, Qt.SortOrder.DescendingOrder)  # stars
    stars = [window.frames.proxy.index(r, 5).data() for r in range(window.frames.proxy.rowCount())]
    assert [int(s) for s in stars] == sorted((r["n_stars"] for r in rows), reverse=True)

    # the thumbnail on demand
    window.frames.table.selectRow(0)
    assert window.frames.show_thumbnail()
    assert not window.frames.thumbnail.pixmap().isNull() and window.frames.thumbnail.pixmap().width() >= 100


def test_the_sky_map_draws_frames_and_tiles_and_a_click_lists_a_tile(window, qtbot, cloudy_dataset):
    rows = _measured(window, qtbot, cloudy_dataset)
    sky = window.sky_map
    assert sorted(sky.tile_items) == [0, 1] and len(sky.frame_items) == len(rows)
    # each footprint is the frame's WCS: 240 x 360 px at 4.8"/px
    fp = sky_footprint(rows[0]["path"])
    side = tangent_xy(fp.corners, fp.centre)
    assert abs(((side[1] - side[0]) ** 2).sum() ** 0.5 - 239 * 4.8 / 3600) < 1e-3
    # rejected frames are drawn red
    red = [f for f, item in sky.frame_items.items() if item.pen().color().red() > 200]
    assert sorted(red) == sorted(r["file"] for r in rows if r["decision"] == "rejected")
    window.tabs.setCurrentWidget(sky)
    sky.resize(600, 400)
    qtbot.wait(50)
    tile = sky.tile_items[1]
    # a point of tile 1 only (tiles overlap): its outline's corner on the side away from tile 0
    other = sky.tile_items[0].sceneBoundingRect()
    rect = tile.sceneBoundingRect()
    corner = rect.topLeft() if not other.contains(rect.topLeft() + QPointF(3, 3)) else rect.topRight()
    inside = corner + QPointF(3 if corner == rect.topLeft() else -3, 3)
    pos = sky.mapFromScene(inside)
    assert sky.tile_at(pos) == 1
    qtbot.mouseClick(sky.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(pos))
    assert window.tabs.currentWidget() is window.frames
    assert sorted(window.frames.visible_files()) == sorted(r["file"] for r in rows if r["tile_id"] == 1)


def test_an_unticked_frame_is_left_out_of_the_run_and_the_report_says_why(window, qtbot, cloudy_dataset, tmp_path):
    rows = _measured(window, qtbot, cloudy_dataset)
    victim = next(r["file"] for r in rows if r["decision"] == "kept" and r["tile_id"] == 0)
    window.frames.set_included(victim, False)
    assert list(window.frames.excluded()) == [victim]
    assert window.sky_map.frame_items[victim].pen().color().red() == 170  # grey: excluded
    out = tmp_path / "out"
    window.set_folders(None, out)
    with qtbot.waitSignal(window.runFinished, timeout=RUN_TIMEOUT_MS) as blocker:
        assert window.start_run()
    assert blocker.args == ["ok"], window.message_text() + window.summary_text()
    # the run's explicit list, saved for this input folder
    listed = Path(window.run_config.frame_exclude)
    assert listed == exclude_list_path(window.exclusions_dir(), cloudy_dataset)
    assert read_exclude_list(listed) == [victim] and "unticked in the Frames tab" in listed.read_text()
    report = json.loads((out / "run_report.json").read_text())
    reasons = {Path(r["path"]).name: r["reason"] for r in report["rejected_inputs"]}
    assert reasons[victim] == "excluded by the user (frame_exclude list): unticked in the Frames tab"
    assert report["frame_quality"]["excluded"] == [str(cloudy_dataset / victim)]
    frames_csv = (out / "frames.csv").read_text()
    assert victim not in frames_csv and frames_csv.count("\n") == len(rows)  # header + 11 frames
    in_group = sum(t["frames_in_group"] for t in report["tiles"])
    assert in_group == len(rows) - 1
    assert victim in window.summary_text()
    # after the run the table shows the run's decisions, the unticked frame still out
    assert window.frames.excluded() == {victim: window.frames.excluded()[victim]}
    # measured again later, the folder's list is applied
    rows = _measured(window, qtbot, cloudy_dataset)
    assert [r["file"] for r in rows if r["decision"] == "excluded"] == [victim]
    window.frames.set_included(victim, True)
    window.set_folders(None, tmp_path / "out2")
    assert window._with_exclusions(window.settings_panel.config()).frame_exclude == ""
    assert not listed.exists()


def test_the_exclusion_list_keeps_the_users_own_patterns(tmp_path):
    path = write_exclude_list(tmp_path / "x.txt", {"a.fit": "unticked; FWHM 7 px"}, input_dir=tmp_path,
                              extra_patterns=["*_bad.fit"])
    assert read_exclude_list(path) == ["a.fit", "*_bad.fit"]
    assert read_exclude_notes(path) == {"a.fit": "unticked; FWHM 7 px"}


def test_a_dropped_folder_becomes_the_input(window, qtbot, cloudy_dataset, tmp_path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(cloudy_dataset))])
    with qtbot.waitSignal(window.frames.measured, timeout=120_000):
        event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                           Qt.KeyboardModifier.NoModifier)
        window.dropEvent(event)
    assert window.input_edit.text() == str(cloudy_dataset)
    assert window.recent_folders()[0] == str(cloudy_dataset)
    assert [a.text() for a in window.recent_menu.actions()][0] == str(cloudy_dataset)
    # a dropped frame: its folder
    mime.setUrls([QUrl.fromLocalFile(str(next(cloudy_dataset.glob("*.fit"))))])
    assert window._dropped_folder(mime) == cloudy_dataset
    # a file that is not there: refused
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "nothing"))])
    assert window._dropped_folder(mime) is None


def test_a_recent_folder_is_chosen_from_the_menu(window, qtbot, cloudy_dataset, tmp_path):
    window.qsettings.setValue("folders/recent", [str(cloudy_dataset), str(tmp_path)])
    window._fill_recent_menu()
    window.input_edit.setText("")
    with qtbot.waitSignal(window.frames.measured, timeout=120_000):
        window.recent_menu.actions()[0].trigger()
    assert window.input_edit.text() == str(cloudy_dataset) and len(window.frames.model.rows) == 12
