"""The Frames tab (a sortable table of every input frame: include box, time, tile group, solve status, the quality
measures, decision and reason; filters; a thumbnail on demand) and the Sky map tab (frame footprints and tile
outlines; a click on a tile shows its frames). Both fill in from ``zemosaic inspect`` before any run, measured in
a background thread, and from the run's ``frames.csv`` after it."""
from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QSortFilterProxyModel,
    Qt,
    QThread,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
    QPolygonF,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QGraphicsPolygonItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from zemosaic.config import ZeMosaicConfig
from zemosaic.gui.frame_list import SOLVE_STATUS, add_footprints, tangent_xy
from zemosaic.gui.stretch import auto_levels, stretch_to_rgba
from zemosaic.io import fits as fits_io
from zemosaic.pipeline.inspect import inspect_frames

__all__ = ["FramesTab", "FrameTableModel", "SkyMap", "COLUMNS", "decision_colour"]

_CTX = "Frames"

# (field, header): the table's columns after the include box
COLUMNS: tuple[tuple[str, str], ...] = (
    ("file", "File"), ("date_obs", "Time"), ("tile_id", "Tile"), ("decision", "Decision"), ("n_stars", "Stars"),
    ("fwhm_px", "FWHM (px)"), ("elongation", "Elongation"), ("sky_level", "Sky (ADU)"),
    ("transparency", "Transparency"), ("weight", "Weight"), ("solve", "Position"), ("reason", "Reason"))
_DIGITS = {"fwhm_px": 2, "elongation": 2, "sky_level": 0, "transparency": 2, "weight": 2}
# the decision's colour on a light and on a dark background (>= 4.5:1 on the palettes' Base and AlternateBase)
_DECISION_LIGHT = {"kept": QColor(0, 120, 40), "rejected": QColor(190, 20, 20), "excluded": QColor(105, 105, 105)}
_DECISION_DARK = {"kept": QColor(90, 200, 110), "rejected": QColor(255, 110, 110), "excluded": QColor(170, 170, 170)}


def decision_colour(decision: str, background: QColor) -> QColor:
    """The colour of a decision written on ``background``."""
    table = _DECISION_DARK if background.lightness() < 128 else _DECISION_LIGHT
    return table.get(decision, table["kept"])
_USER_REASON = "unticked in the Frames tab"
_THUMB = 320  # the thumbnail's longest side on screen


def _tr(text: str) -> str:
    return QCoreApplication.translate(_CTX, text)


class FrameTableModel(QAbstractTableModel):
    """Rows are ``zemosaic inspect`` rows (+ ``solve``, ``footprint``); column 0 is the include box."""

    includedChanged = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.rows: list[dict] = []
        self.included: list[bool] = []

    def set_rows(self, rows: list[dict], excluded: Collection[str] = ()) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.included = [r["file"] not in excluded and r.get("decision") != "excluded" for r in self.rows]
        self.endResetModel()
        self.includedChanged.emit()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS) + 1

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
                   ) -> Any:  # noqa: N802
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        return _tr("Use") if section == 0 else _tr(COLUMNS[section - 1][1])

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return base | Qt.ItemFlag.ItemIsUserCheckable if index.column() == 0 else base

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row, col = self.rows[index.row()], index.column()
        if col == 0:
            if role == Qt.ItemDataRole.CheckStateRole:
                return Qt.CheckState.Checked if self.included[index.row()] else Qt.CheckState.Unchecked
            if role == Qt.ItemDataRole.UserRole:
                return int(self.included[index.row()])
            return None
        name = COLUMNS[col - 1][0]
        value = row.get(name)
        if role == Qt.ItemDataRole.UserRole:  # the sort key
            return (-1e300 if value is None else value) if name not in ("file", "date_obs", "decision", "reason",
                                                                         "solve") else str(value or "")
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(name, value, index.row())
        if role == Qt.ItemDataRole.ForegroundRole and name == "decision":
            base = QApplication.palette().color(QPalette.ColorRole.Base)
            return QBrush(decision_colour(self._decision(index.row()), base))
        if role == Qt.ItemDataRole.ToolTipRole and name in ("reason", "file", "decision"):
            return str(row.get("reason") or row.get("path") or "")
        return None

    def setData(self, index: QModelIndex | QPersistentModelIndex, value: Any,  # noqa: N802
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        if index.column() != 0 or role != Qt.ItemDataRole.CheckStateRole:
            return False
        self.set_included(index.row(), Qt.CheckState(value) == Qt.CheckState.Checked)
        return True

    def set_included(self, row: int, included: bool) -> None:
        self.included[row] = included
        self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))
        self.includedChanged.emit()

    def excluded(self) -> dict[str, str]:
        """File name -> why, for every unticked frame."""
        out = {}
        for row, keep in zip(self.rows, self.included, strict=True):
            if not keep:
                gate = f"; the quality gate said: {row['reason']}" if row.get("reason") else ""
                out[row["file"]] = _USER_REASON + gate
        return out

    def _decision(self, i: int) -> str:
        return "excluded" if not self.included[i] else str(self.rows[i].get("decision") or "")

    def _text(self, name: str, value: Any, i: int) -> str:
        if name == "decision":
            return _tr(self._decision(i))
        if name == "solve":
            return _tr(SOLVE_STATUS.get(str(value), str(value or "")))
        if name == "date_obs":
            return str(value or "").replace("T", " ")[:19]
        if value is None:
            return "-"
        if name in _DIGITS:
            return f"{float(value):.{_DIGITS[name]}f}"
        return str(value)


class _FrameFilter(QSortFilterProxyModel):
    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.rejected_only = False
        self.tile: int | None = None
        self.setSortRole(Qt.ItemDataRole.UserRole)

    def set_filters(self, *, rejected_only: bool | None = None, tile: int | None | str = "keep") -> None:
        if rejected_only is not None:
            self.rejected_only = rejected_only
        if tile != "keep":
            self.tile = tile  # type: ignore[assignment]
        self.invalidate()

    def filterAcceptsRow(self, source_row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802
        model = self.sourceModel()
        assert isinstance(model, FrameTableModel)
        row = model.rows[source_row]
        if self.rejected_only and model._decision(source_row) == "kept":
            return False
        return self.tile is None or row.get("tile_id") == self.tile


class _Inspector(QObject):
    """Runs ``inspect_frames`` in a thread; ``done`` carries (rows, unreadable) or ``failed`` the reason."""

    progress = Signal(int, int)
    done = Signal(list, list)
    failed = Signal(str)

    def __init__(self, input_dir: Path, config: ZeMosaicConfig):
        super().__init__()
        self.input_dir, self.config = input_dir, config

    def run(self) -> None:
        try:
            result = inspect_frames(self.input_dir, self.config,
                                    progress_callback=lambda e: self.progress.emit(e.done, e.total))
            self.done.emit(add_footprints(result.rows), list(result.unreadable))
        except (OSError, ValueError) as exc:
            self.failed.emit(str(exc))


class SkyMap(QGraphicsView):
    """Frame footprints (green kept, red rejected, grey excluded) and tile outlines on a tangent plane, east to
    the left, north up. A click on a tile emits ``tileClicked``."""

    tileClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setBackgroundBrush(QColor(18, 22, 34))
        self.tile_items: dict[int, QGraphicsPolygonItem] = {}
        self.frame_items: dict[str, QGraphicsPolygonItem] = {}
        self._placeholder()

    def _placeholder(self) -> None:
        text = self.scene().addSimpleText(_tr("Choose an input folder: the frames appear here before any run."))
        text.setBrush(QColor(230, 230, 230))

    def set_frames(self, rows: list[dict], included: list[bool]) -> None:
        scene = self.scene()
        scene.clear()
        self.tile_items.clear()
        self.frame_items.clear()
        placed = [(r, keep) for r, keep in zip(rows, included, strict=True)
                  if r.get("footprint") is not None and r["footprint"].corners]
        if not placed:
            self._placeholder()
            return
        centres = np.array([r["footprint"].centre for r, _ in placed])
        centre = (float(np.degrees(np.arctan2(np.sin(np.radians(centres[:, 0])).mean(),
                                              np.cos(np.radians(centres[:, 0])).mean())) % 360),
                  float(centres[:, 1].mean()))
        scale = 600.0 / max(1e-6, max(float(np.ptp(tangent_xy([c for r, _ in placed for c in r["footprint"].corners],
                                                                 centre), axis=0).max()), 1e-3))
        by_tile: dict[int, list[np.ndarray]] = {}
        for row, keep in placed:
            xy = tangent_xy(row["footprint"].corners, centre) * scale
            xy[:, 0] *= -1.0  # east to the left
            xy[:, 1] *= -1.0  # north up (screen y grows downwards)
            decision = "excluded" if not keep else str(row.get("decision") or "kept")
            colour = decision_colour(decision, self.backgroundBrush().color())
            item = scene.addPolygon(QPolygonF([QPointF(*p) for p in xy]), QPen(colour, 1.5),
                                    QBrush(QColor(colour.red(), colour.green(), colour.blue(), 28)))
            item.setToolTip(f"{row['file']}: {_tr(decision)}")
            self.frame_items[row["file"]] = item
            if row.get("tile_id") is not None and keep:
                by_tile.setdefault(int(row["tile_id"]), []).append(xy)
        for tile_id, shapes in sorted(by_tile.items()):
            pts = np.vstack(shapes)
            lo, hi = pts.min(axis=0), pts.max(axis=0)
            poly = QPolygonF([QPointF(lo[0], lo[1]), QPointF(hi[0], lo[1]), QPointF(hi[0], hi[1]),
                              QPointF(lo[0], hi[1])])
            pen = QPen(QColor(255, 200, 60), 2.5, Qt.PenStyle.DashLine)
            tile = scene.addPolygon(poly, pen, QBrush(QColor(255, 200, 60, 10)))
            tile.setData(0, tile_id)
            tile.setZValue(2)
            tile.setToolTip(_tr("tile %1: click to list its frames").replace("%1", str(tile_id)))
            label = QGraphicsSimpleTextItem(_tr("tile %1").replace("%1", str(tile_id)))
            label.setBrush(QColor(255, 220, 120))
            label.setPos(lo[0] + 4, lo[1] + 2)
            label.setZValue(3)
            scene.addItem(label)
            self.tile_items[tile_id] = tile
        self.fitInView(scene.itemsBoundingRect().adjusted(-20, -20, 20, 20), Qt.AspectRatioMode.KeepAspectRatio)

    def tile_at(self, pos) -> int | None:
        for item in self.items(pos):
            if item.data(0) is not None:
                return int(item.data(0))
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        tile = self.tile_at(event.position().toPoint())
        if tile is not None:
            self.tileClicked.emit(tile)
        super().mousePressEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        if self.scene().items():
            self.fitInView(self.scene().itemsBoundingRect().adjusted(-20, -20, 20, 20),
                           Qt.AspectRatioMode.KeepAspectRatio)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt's name)
        factor = 1.25 if event.angleDelta().y() > 0 else 0.8
        self.scale(factor, factor)


class FramesTab(QWidget):
    """The frame table with its filters and thumbnail; ``rowsChanged`` when new rows arrive, ``excludedChanged``
    when the user ticks or unticks a frame."""

    rowsChanged = Signal()
    excludedChanged = Signal()
    measured = Signal(bool)  # True: rows arrived; False: the measurement failed

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = FrameTableModel(self)
        self.proxy = _FrameFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(2, Qt.SortOrder.AscendingOrder)  # by time
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)  # file names: elided in the middle
        header.resizeSection(1, 190)
        header.setStretchLastSection(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.measure_button = QPushButton(self.tr("Measure frames"))
        self.measure_button.setToolTip(self.tr("Measure every frame's quality as a run would (zemosaic inspect), "
                                               "without stacking"))
        self.rejected_only = QCheckBox(self.tr("Rejected only"))
        self.tile_box = QComboBox()
        self.tile_box.addItem(self.tr("all tiles"), None)
        self.thumb_button = QPushButton(self.tr("Thumbnail"))
        self.thumb_button.setToolTip(self.tr("Show the selected frame"))
        self.status = QLabel(self.tr("No frames measured yet: choose the input folder, then Measure frames."))
        self.status.setWordWrap(True)
        self.thumbnail = QLabel()
        self.thumbnail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumbnail.setMinimumWidth(200)
        self.thumbnail.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)  # never grows the window
        bar = QHBoxLayout()
        for w in (self.measure_button, self.rejected_only, QLabel(self.tr("Tile")), self.tile_box,
                  self.thumb_button):
            bar.addWidget(w)
        bar.addStretch(1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(self.thumbnail)
        split.setStretchFactor(0, 1)
        split.setSizes([700, 0])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        self.rejected_only.toggled.connect(lambda on: self.proxy.set_filters(rejected_only=on))
        self.tile_box.currentIndexChanged.connect(lambda _i: self.proxy.set_filters(tile=self.tile_box.currentData()))
        self.thumb_button.clicked.connect(self.show_thumbnail)
        self.table.doubleClicked.connect(lambda _i: self.show_thumbnail())
        self.model.includedChanged.connect(self.excludedChanged)
        self.input_dir: Path | None = None
        self._thread: QThread | None = None
        self._inspector: _Inspector | None = None

    # --- public --------------------------------------------------------------------------------
    def measure(self, input_dir: str | Path, config: ZeMosaicConfig) -> bool:
        """Measure the frames of ``input_dir`` in a background thread (``measured`` when done); False when a
        measurement is already going on."""
        if self._thread is not None:
            return False
        self.input_dir = Path(input_dir)
        self.status.setText(self.tr("Measuring the frames of %1...").replace("%1", str(input_dir)))
        self.measure_button.setEnabled(False)
        thread, inspector = QThread(self), _Inspector(Path(input_dir), config)
        inspector.moveToThread(thread)
        thread.started.connect(inspector.run)
        inspector.progress.connect(self._on_progress)
        inspector.done.connect(self._on_done)
        inspector.failed.connect(self._on_failed)
        self._thread, self._inspector = thread, inspector
        thread.start()
        return True

    def is_measuring(self) -> bool:
        return self._thread is not None

    def set_rows(self, rows: list[dict], unreadable: list | None = None, *, excluded: Collection[str] = ()
                 ) -> None:
        """Show ``rows`` (``zemosaic inspect`` rows with ``solve`` and ``footprint``)."""
        self.model.set_rows(rows, excluded)
        tiles = sorted({int(r["tile_id"]) for r in rows if r.get("tile_id") is not None})
        self.tile_box.blockSignals(True)
        self.tile_box.clear()
        self.tile_box.addItem(self.tr("all tiles"), None)
        for t in tiles:
            self.tile_box.addItem(self.tr("tile %1").replace("%1", str(t)), t)
        self.tile_box.blockSignals(False)
        self.proxy.set_filters(tile=None)
        kept = sum(r.get("decision") == "kept" for r in rows)
        text = self.tr("%1 frames in %2 tile groups: %3 kept, %4 rejected by the quality rules. Untick a frame to "
                       "leave it out of the run.")
        text = text.replace("%1", str(len(rows))).replace("%2", str(len(tiles))).replace("%3", str(kept))
        text = text.replace("%4", str(sum(r.get("decision") == "rejected" for r in rows)))
        if unreadable:
            text += " " + self.tr("Unreadable: %1.").replace("%1", ", ".join(Path(p).name for p, _ in unreadable))
        self.status.setText(text)
        self.rowsChanged.emit()

    def show_tile(self, tile_id: int | None) -> None:
        self.tile_box.setCurrentIndex(max(0, self.tile_box.findData(tile_id)))

    def excluded(self) -> dict[str, str]:
        return self.model.excluded()

    def set_included(self, file_name: str, included: bool) -> None:
        for i, row in enumerate(self.model.rows):
            if row["file"] == file_name:
                self.model.set_included(i, included)
                return
        raise KeyError(file_name)

    def visible_files(self) -> list[str]:
        return [str(self.proxy.index(r, 1).data()) for r in range(self.proxy.rowCount())]

    def show_thumbnail(self) -> bool:
        """Show the selected frame (luminance, binned to about 400 pixels, auto-stretched)."""
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return False
        row = self.model.rows[self.proxy.mapToSource(rows[0]).row()]
        try:
            info = fits_io.read_frame_info(Path(row["path"]), require_wcs=False)
            binning = max(1, int(max(info.shape[:2]) // 400))
            plane = fits_io.read_luminance(Path(row["path"]), binning=binning)
        except fits_io.FitsInputError as exc:
            self.thumbnail.setText(str(exc))
            return False
        rgba = np.ascontiguousarray(stretch_to_rgba(plane, auto_levels(plane)))
        image = QImage(rgba.data, rgba.shape[1], rgba.shape[0], 4 * rgba.shape[1], QImage.Format.Format_RGBA8888)
        pixmap = QPixmap.fromImage(image.copy())
        self.thumbnail.setPixmap(pixmap.scaled(_THUMB, _THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                               Qt.TransformationMode.SmoothTransformation))
        self.thumbnail.setToolTip(row["file"])
        split = self.thumbnail.parentWidget()
        if isinstance(split, QSplitter) and split.sizes()[1] == 0:
            split.setSizes([max(200, split.width() - 320), 320])
        return True

    # --- private -------------------------------------------------------------------------------
    def _end_thread(self) -> None:
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
            self._thread.deleteLater()
        self._thread, self._inspector = None, None
        self.measure_button.setEnabled(True)

    def _on_progress(self, done: int, total: int) -> None:
        self.status.setText(self.tr("Measuring frame %1 of %2...").replace("%1", str(done)).replace("%2", str(total)))

    def _on_done(self, rows: list, unreadable: list) -> None:
        self._end_thread()
        excluded = {r["file"] for r in rows if r.get("decision") == "excluded"}
        self.set_rows(rows, unreadable, excluded=excluded)
        self.measured.emit(True)

    def _on_failed(self, reason: str) -> None:
        self._end_thread()
        self.status.setText(self.tr("The frames could not be measured: %1").replace("%1", reason))
        self.measured.emit(False)
