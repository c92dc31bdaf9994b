"""The main window: folders, settings, Run / Cancel, per-phase progress with ETA, tiles, preview, summary, log."""
from __future__ import annotations

import dataclasses
import html
import json
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from zemosaic.config import ConfigError, ZeMosaicConfig, resolve_config
from zemosaic.gui.folders import EXISTING_OUTPUT_POLICIES, folder_problems
from zemosaic.gui.frame_list import add_footprints, exclude_list_path, read_frames_csv, write_exclude_list
from zemosaic.gui.frames_view import FramesTab, SkyMap
from zemosaic.gui.i18n import LANGUAGES
from zemosaic.gui.image_views import TileGallery
from zemosaic.gui.log_view import LogView
from zemosaic.gui.preview import MosaicPreview
from zemosaic.gui.progress_view import PhaseProgress
from zemosaic.gui.run_controller import RunController
from zemosaic.gui.settings_panel import SettingsPanel
from zemosaic.quality.group import read_exclude_list

__all__ = ["MainWindow", "PhaseProgress"]  # PhaseProgress: from zemosaic.gui.progress_view

RECENT_FOLDERS = 8

class MainWindow(QMainWindow):
    """The ZeMosaic window. ``settings`` is where the window keeps its state between sessions."""

    runFinished = Signal(str)  # "ok", or the error kind

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("ZeMosaic"))
        self.qsettings = settings if settings is not None else QSettings("ZeMosaic", "ZeMosaic")
        self.controller = RunController(self)
        self.last_result: dict | None = None
        self.run_config: ZeMosaicConfig | None = None  # the configuration of the last run started
        self.last_status = ""

        # folders
        self.input_edit, self.output_edit = QLineEdit(), QLineEdit()
        self.input_edit.setPlaceholderText(self.tr("folder of raw FITS frames (never modified)"))
        self.output_edit.setPlaceholderText(self.tr("folder for the mosaic, master tiles and report"))
        self.existing_box = QComboBox()
        for value, text in zip(EXISTING_OUTPUT_POLICIES, (
                self.tr("refuse"), self.tr("overwrite earlier outputs"), self.tr("resume (reuse finished tiles)")),
                strict=True):
            self.existing_box.addItem(text, value)
        folders = QGroupBox(self.tr("Folders"))
        grid = QGridLayout(folders)
        for row, (label, edit, slot) in enumerate((
                (self.tr("Input"), self.input_edit, self._browse_input),
                (self.tr("Output"), self.output_edit, self._browse_output))):
            browse = QPushButton(self.tr("Browse..."))
            browse.clicked.connect(slot)
            grid.addWidget(QLabel(label), row, 0)
            grid.addWidget(edit, row, 1)
            grid.addWidget(browse, row, 2)
        grid.addWidget(QLabel(self.tr("If the output folder is not empty")), 2, 0)
        grid.addWidget(self.existing_box, 2, 1)

        # message banner and buttons
        self.message = QLabel()
        self.message.setObjectName("messageBanner")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        self.run_button = QPushButton(self.tr("Run"))
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setEnabled(False)
        self.load_button = QPushButton(self.tr("Load settings..."))
        self.save_button = QPushButton(self.tr("Save settings..."))
        self.open_button = QPushButton(self.tr("Open output folder"))
        buttons = QHBoxLayout()
        for b in (self.run_button, self.cancel_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        for b in (self.load_button, self.save_button, self.open_button):
            buttons.addWidget(b)

        # settings | progress + tabs
        self.settings_panel = SettingsPanel()
        self.progress = PhaseProgress()
        self.tiles = TileGallery()
        self.preview = MosaicPreview()
        self.summary = QTextBrowser()
        self.summary.setOpenExternalLinks(False)
        self.log_view = LogView()
        self.frames = FramesTab()
        self.sky_map = SkyMap()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.frames, self.tr("Frames"))
        self.tabs.addTab(self.sky_map, self.tr("Sky map"))
        self.tabs.addTab(self.tiles, self.tr("Master tiles"))
        self.tabs.addTab(self.preview, self.tr("Mosaic"))
        self.tabs.addTab(self.summary, self.tr("Summary"))
        self.tabs.addTab(self.log_view, self.tr("Log"))
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        progress_box = QGroupBox(self.tr("Progress"))
        QVBoxLayout(progress_box).addWidget(self.progress.area)
        right_layout.addWidget(progress_box)
        right_layout.addWidget(self.tabs, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.settings_panel)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([460, 780])

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(folders)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.statusBar().showMessage(self.tr("Ready"))
        self.setAcceptDrops(True)
        self._build_menus()
        self.resize(1200, 820)

        self.run_button.clicked.connect(self.start_run)
        self.cancel_button.clicked.connect(self.controller.cancel)
        self.cancel_button.clicked.connect(lambda: self.statusBar().showMessage(self.tr("Cancelling...")))
        self.load_button.clicked.connect(self._load_dialog)
        self.save_button.clicked.connect(self._save_dialog)
        self.open_button.clicked.connect(self.open_output_folder)
        self.controller.progress.connect(self.progress.update_event)
        self.controller.logRecord.connect(self.log_view.add_record)
        self.controller.tileWritten.connect(self._on_tile)
        self.controller.succeeded.connect(self._on_success)
        self.controller.failed.connect(self._on_failure)
        self.controller.runningChanged.connect(self._on_running)
        self.frames.measure_button.clicked.connect(self.measure_frames)
        self.frames.rowsChanged.connect(self._redraw_sky_map)
        self.frames.excludedChanged.connect(self._redraw_sky_map)
        self.sky_map.tileClicked.connect(self._show_tile_frames)
        self._restore_state()

    def _build_menus(self) -> None:
        menu = self.menuBar().addMenu(self.tr("&File"))
        menu.addAction(self.tr("Choose the &input folder..."), self._browse_input)
        self.recent_menu = menu.addMenu(self.tr("&Recent input folders"))
        menu.addAction(self.tr("Choose the &output folder..."), self._browse_output)
        menu.addSeparator()
        menu.addAction(self.tr("&Load settings..."), self._load_dialog)
        menu.addAction(self.tr("&Save settings..."), self._save_dialog)
        menu.addSeparator()
        menu.addAction(self.tr("&Quit"), self.close)
        run = self.menuBar().addMenu(self.tr("&Run"))
        run.addAction(self.tr("&Measure frames"), self.measure_frames)
        run.addAction(self.tr("&Start"), self.start_run)
        run.addAction(self.tr("&Cancel"), self.controller.cancel)
        run.addAction(self.tr("&Open the output folder"), self.open_output_folder)
        view = self.menuBar().addMenu(self.tr("&View"))
        self.dark_action = view.addAction(self.tr("&Dark theme (next start)"))
        self.dark_action.setCheckable(True)
        self.dark_action.setChecked(str(self.qsettings.value("ui/dark", "false")).lower() == "true")
        self.dark_action.toggled.connect(lambda on: self.qsettings.setValue("ui/dark", "true" if on else "false"))
        self.language_menu = view.addMenu(self.tr("&Language (next start)"))
        chosen = str(self.qsettings.value("ui/language", "") or "")
        for code, name in LANGUAGES:
            action = self.language_menu.addAction(self.tr("System language") if not code else name)
            action.setCheckable(True)
            action.setChecked(code == chosen)
            action.triggered.connect(lambda _on=False, c=code: self._choose_language(c))
        self._fill_recent_menu()

    def _choose_language(self, code: str) -> None:
        self.qsettings.setValue("ui/language", code)
        for action, (c, _) in zip(self.language_menu.actions(), LANGUAGES, strict=True):
            action.setChecked(c == code)
        self.statusBar().showMessage(self.tr("The language changes at the next start."))

    # --- public --------------------------------------------------------------------------------
    def set_folders(self, input_dir: str | Path | None, output_dir: str | Path | None,
                    existing_output: str | None = None) -> None:
        if input_dir is not None:
            self.input_edit.setText(str(input_dir))
        if output_dir is not None:
            self.output_edit.setText(str(output_dir))
        if existing_output is not None:
            self.existing_box.setCurrentIndex(self.existing_box.findData(existing_output))

    def show_message(self, text: str, *, error: bool = True) -> None:
        """Show ``text`` in the banner above the buttons (empty: hide it)."""
        self.message.setText(text)
        self.message.setStyleSheet("QLabel#messageBanner { border: 2px solid #c0392b; padding: 6px; }" if error
                                   else "QLabel#messageBanner { border: 2px solid #2e86c1; padding: 6px; }")
        self.message.setVisible(bool(text))

    def message_text(self) -> str:
        return "" if self.message.isHidden() else self.message.text()

    def start_run(self) -> bool:
        """Check the folders and settings, then start the run; False (and the reason in the banner) if refused."""
        if self.controller.is_running():
            return False
        existing = str(self.existing_box.currentData())
        try:
            cfg = self.settings_panel.config()
        except ConfigError as exc:
            self.show_message(self.tr("Settings: %1").replace("%1", str(exc)))
            return False
        problems = folder_problems(self.input_edit.text().strip(), self.output_edit.text().strip(),
                                   existing_output=existing, recursive=bool(getattr(cfg, "input_recursive", False)))
        if problems:
            self.show_message("\n".join(problems))
            return False
        try:
            cfg = self._with_exclusions(cfg)
        except (ConfigError, OSError) as exc:
            self.show_message(str(exc))
            return False
        self.run_config = cfg
        self.show_message("")
        self.progress.clear()
        self.tiles.clear()
        self.preview.clear()
        self.summary.clear()
        self.log_view.clear()
        self.last_result, self.last_status = None, ""
        self._save_state()
        self.controller.start(Path(self.input_edit.text().strip()), Path(self.output_edit.text().strip()), cfg,
                              existing_output=existing)
        self.statusBar().showMessage(self.tr("Running..."))
        return True

    def open_output_folder(self) -> None:
        out = self.output_edit.text().strip()
        if out and Path(out).is_dir():
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(out).resolve())))
        else:
            self.show_message(self.tr("The output folder does not exist yet."))

    def load_settings(self, path: str | Path) -> bool:
        try:
            self.settings_panel.load_json(path)
        except ConfigError as exc:
            self.show_message(str(exc))
            return False
        self.statusBar().showMessage(self.tr("Settings loaded from %1").replace("%1", str(path)))
        return True

    def save_settings(self, path: str | Path) -> bool:
        try:
            self.settings_panel.save_json(path)
        except (ConfigError, OSError) as exc:
            self.show_message(str(exc))
            return False
        self.statusBar().showMessage(self.tr("Settings saved to %1").replace("%1", str(path)))
        return True

    # --- frames ---------------------------------------------------------------------------------
    def exclusions_dir(self) -> Path:
        """Where the window keeps each input folder's exclusion list (next to its settings file)."""
        return Path(self.qsettings.fileName()).resolve().parent / "exclusions"

    def measure_frames(self) -> bool:
        """Measure the input folder's frames (``zemosaic inspect``) in the background for the Frames tab and the
        sky map; the exclusion list kept for this folder is applied."""
        folder = self.input_edit.text().strip()
        if not folder or not Path(folder).is_dir():
            self.show_message(self.tr("Choose the input folder first."))
            return False
        try:
            cfg = self.settings_panel.config()
        except ConfigError as exc:
            self.show_message(self.tr("Settings: %1").replace("%1", str(exc)))
            return False
        listed = exclude_list_path(self.exclusions_dir(), folder)
        if listed.is_file():
            cfg = dataclasses.replace(cfg, frame_exclude=str(listed))
        return self.frames.measure(folder, cfg)

    def _with_exclusions(self, cfg: ZeMosaicConfig) -> ZeMosaicConfig:
        """``cfg`` with ``frame_exclude`` naming the frames unticked in the Frames tab (the list is written for
        this input folder, merged with the patterns of a list named in the settings)."""
        folder = self.input_edit.text().strip()
        path = exclude_list_path(self.exclusions_dir(), folder)
        shown_here = self.frames.input_dir is not None and Path(self.frames.input_dir).resolve() == \
            Path(folder).resolve()
        excluded = self.frames.excluded() if shown_here else {}
        if not excluded:
            if shown_here:
                path.unlink(missing_ok=True)  # every frame ticked again: the list goes
            return cfg
        extra: list[str] = []
        if cfg.frame_exclude and Path(cfg.frame_exclude).resolve() != path.resolve():
            extra = read_exclude_list(cfg.frame_exclude)
        write_exclude_list(path, excluded, input_dir=folder, extra_patterns=extra)
        return dataclasses.replace(cfg, frame_exclude=str(path))

    def _redraw_sky_map(self) -> None:
        self.sky_map.set_frames(self.frames.model.rows, self.frames.model.included)

    def _show_tile_frames(self, tile_id: int) -> None:
        self.frames.show_tile(tile_id)
        self.tabs.setCurrentWidget(self.frames)

    def _load_run_frames(self, output_dir: Path) -> None:
        """After a run: the Frames tab shows the run's own decisions (``frames.csv``) and the frames it left out."""
        csv_path = output_dir / "frames.csv"
        folder = self.input_edit.text().strip()
        if not csv_path.is_file() or not folder:
            return
        try:
            rows = read_frames_csv(csv_path, folder)
        except (OSError, ValueError, KeyError):
            return
        excluded = self.frames.excluded() if self.frames.input_dir is not None else {}
        seen = {r["file"] for r in rows}
        rows += [{**r, "decision": "excluded", "reason": why} for r in self.frames.model.rows
                 if r["file"] in excluded and r["file"] not in seen for why in (excluded[r["file"]],)]
        self.frames.input_dir = Path(folder)
        self.frames.set_rows(add_footprints(rows), excluded=set(excluded))

    # --- run events ----------------------------------------------------------------------------
    def _on_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.settings_panel.setEnabled(not running)
        for w in (self.input_edit, self.output_edit, self.existing_box, self.load_button):
            w.setEnabled(not running)

    def _on_tile(self, tile: dict) -> None:
        self.tiles.add_tile(tile)

    def _on_success(self, result: dict) -> None:
        self.last_result, self.last_status = result, "ok"
        shown = bool(result.get("mosaic_path")) and self.preview.load_fits(str(result["mosaic_path"]))
        if not shown and result.get("preview_path"):
            shown = self.preview.load(str(result["preview_path"]))
        if shown:
            self.tabs.setCurrentWidget(self.preview)
        self._show_summary(result.get("summary", ""), result.get("report_path"))
        self._load_run_frames(Path(str(result.get("output_dir") or self.output_edit.text().strip())))
        self.statusBar().showMessage(self.tr("Finished: %1 tiles, %2 frames used").replace(
            "%1", str(result.get("n_tiles"))).replace("%2", str(result.get("n_frames_used"))))
        self.runFinished.emit("ok")

    def _on_failure(self, kind: str, message: str, details: str) -> None:
        self.last_status = kind
        if kind == "interrupted":
            self.show_message(self.tr("Run cancelled: %1. Temporary files were removed; finished master tiles "
                                      "are kept (choose Resume to reuse them).").replace("%1", message), error=False)
        elif kind == "crash":
            self.show_message(self.tr("The run failed: %1").replace("%1", message))
        else:
            self.show_message(message)
        report = Path(self.output_edit.text().strip()) / "run_report.json"
        self._show_summary(message, str(report) if report.is_file() else None, details=details if kind == "crash"
                           else "")
        self.statusBar().showMessage(self.tr("Stopped (%1)").replace("%1", kind))
        self.runFinished.emit(kind)

    def _show_summary(self, headline: str, report_path: str | None, details: str = "") -> None:
        words = (self.tr("Master tiles"), self.tr("file"), self.tr("frames used"), self.tr("coverage"),
                 self.tr("Rejected inputs"), self.tr("none"), self.tr("Details"))
        parts = [f"<pre>{html.escape(headline)}</pre>"]
        report = None
        if report_path:
            try:
                report = json.loads(Path(report_path).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                report = None
        if report:
            rows = "".join(
                f"<tr><td>{t.get('tile_id')}</td><td>{html.escape(Path(str(t.get('path') or '-')).name)}</td>"
                f"<td>{t.get('frames_used')}/{t.get('frames_in_group')}</td>"
                f"<td>{html.escape(str(t.get('coverage_decision', '')))}</td></tr>"
                for t in report.get("tiles", []))
            parts.append(f"<h3>{words[0]} ({len(report.get('tiles', []))})</h3>"
                         f"<table border=1 cellpadding=3><tr><th>id</th><th>{words[1]}</th>"
                         f"<th>{words[2]}</th><th>{words[3]}</th></tr>{rows}</table>")
            rejected = report.get("rejected_inputs", [])
            parts.append(f"<h3>{words[4]} ({len(rejected)})</h3>")
            if rejected:
                parts.append("<ul>" + "".join(
                    f"<li><b>{html.escape(Path(str(r.get('path'))).name)}</b> ({html.escape(str(r.get('phase')))})"
                    f": {html.escape(str(r.get('reason')))}</li>" for r in rejected) + "</ul>")
            else:
                parts.append(f"<p>{words[5]}</p>")
        if details:
            parts.append(f"<h3>{words[6]}</h3><pre>{html.escape(details[-8000:])}</pre>")
        self.summary.setHtml("".join(parts))

    def summary_text(self) -> str:
        return self.summary.toPlainText()

    # --- dialogs -------------------------------------------------------------------------------
    def _browse_input(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Input folder (FITS frames)"),
                                                  self.input_edit.text())
        if folder:
            self.choose_input(folder)

    def choose_input(self, folder: str | Path) -> bool:
        """Take ``folder`` as the input (browse, drop, recent folders): checked, remembered, its frames measured."""
        self.input_edit.setText(str(folder))
        problems = [p for p in folder_problems(folder, None) if "output" not in p.lower()]
        self.show_message("\n".join(problems))
        if problems:
            return False
        self._remember_recent(str(folder))
        self.measure_frames()
        return True

    def recent_folders(self) -> list[str]:
        value = self.qsettings.value("folders/recent", [])
        items = [value] if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else []
        return [str(v) for v in items if v]

    def _remember_recent(self, folder: str) -> None:
        recent = [folder] + [f for f in self.recent_folders() if f != folder]
        self.qsettings.setValue("folders/recent", recent[:RECENT_FOLDERS])
        self._fill_recent_menu()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for folder in self.recent_folders():
            action = self.recent_menu.addAction(folder)
            action.setData(folder)
            action.triggered.connect(self._recent_chosen)
        self.recent_menu.setEnabled(bool(self.recent_folders()))

    def _recent_chosen(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.choose_input(str(action.data()))

    # --- drag and drop -------------------------------------------------------------------------
    @staticmethod
    def _dropped_folder(mime) -> Path | None:
        for url in mime.urls() if mime.hasUrls() else ():
            path = Path(url.toLocalFile())
            if url.isLocalFile() and path.is_dir():
                return path
            if url.isLocalFile() and path.is_file():
                return path.parent  # a frame dropped: its folder
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt's name)
        if self._dropped_folder(event.mimeData()) is not None and not self.controller.is_running():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt's name)
        folder = self._dropped_folder(event.mimeData())
        if folder is not None and not self.controller.is_running():
            event.acceptProposedAction()
            self.choose_input(folder)

    def _browse_output(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Output folder"), self.output_edit.text())
        if folder:
            self.output_edit.setText(folder)

    def _load_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Load settings"), "", self.tr("JSON (*.json)"))
        if path:
            self.load_settings(path)

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Save settings"), "zemosaic.json",
                                              self.tr("JSON (*.json)"))
        if path:
            self.save_settings(path)

    # --- persistence ---------------------------------------------------------------------------
    def _save_state(self) -> None:
        s = self.qsettings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/splitter", self.splitter.saveState())
        s.setValue("window/tab", self.tabs.currentIndex())
        s.setValue("folders/input", self.input_edit.text())
        s.setValue("folders/output", self.output_edit.text())
        s.setValue("folders/existing_output", self.existing_box.currentData())
        s.setValue("view/overlay", self.tiles.overlay())
        s.setValue("view/advanced", self.settings_panel.advanced_toggle.isChecked())
        try:
            values = self.settings_panel.config()
        except ConfigError:
            values = None
        if values is not None:
            defaults = ZeMosaicConfig()
            changed = {k: getattr(values, k) for k in self.settings_panel.values() if
                       getattr(values, k) != getattr(defaults, k)}
            s.setValue("settings/config_json", json.dumps(changed))
        s.sync()

    def _restore_state(self) -> None:
        s = self.qsettings
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        splitter = s.value("window/splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        self.tabs.setCurrentIndex(int(str(s.value("window/tab", 0) or 0)))
        self.input_edit.setText(str(s.value("folders/input", "") or ""))
        self.output_edit.setText(str(s.value("folders/output", "") or ""))
        existing = s.value("folders/existing_output", "refuse")
        self.existing_box.setCurrentIndex(max(0, self.existing_box.findData(existing)))
        self.tiles.set_overlay(str(s.value("view/overlay", "none") or "none"))
        self.settings_panel.advanced_toggle.setChecked(str(s.value("view/advanced", "false")).lower() == "true")
        text = s.value("settings/config_json")
        if text:
            try:
                self.settings_panel.set_config(resolve_config(base=json.loads(str(text))))
            except (ConfigError, ValueError):  # settings of another version: keep the defaults
                pass

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        if self.controller.is_running():
            self.controller.cancel()
            self.controller.wait(20000)
        self._save_state()
        super().closeEvent(event)
