"""Image views: a picture with zoom and pan (the mosaic preview is :mod:`zemosaic.gui.preview`), and the
gallery of master-tile thumbnails with a switchable ALPHA / COVERAGE overlay. Pictures arrive as PNG bytes or
files; the views only draw them."""
from __future__ import annotations

import base64

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap, QResizeEvent, QShowEvent, QWheelEvent
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

__all__ = ["ZoomableImageView", "TileGallery", "OVERLAYS"]

OVERLAYS = ("none", "alpha", "coverage")


class ZoomableImageView(QGraphicsView):
    """A picture with mouse-wheel zoom (about the cursor) and drag to pan."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._scene = QGraphicsScene(self)
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self._scene.addItem(self._item)
        self.setScene(self._scene)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setBackgroundBrush(QColor(48, 48, 52))  # transparent (uncovered) areas: neutral dark, any palette
        self._auto_fit = True  # fit the picture to the view until the user zooms

    def has_image(self) -> bool:
        return not self._item.pixmap().isNull()

    def set_pixmap(self, pixmap: QPixmap) -> None:
        self._item.setPixmap(pixmap)
        self._scene.setSceneRect(self._item.boundingRect())
        self.fit()

    def clear(self) -> None:
        self._item.setPixmap(QPixmap())

    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        new = self.zoom() * factor
        if 0.02 <= new <= 40.0:
            self._auto_fit = False
            self.scale(factor, factor)

    def actual_size(self) -> None:
        self._auto_fit = False
        self.resetTransform()

    def fit(self) -> None:
        self._auto_fit = True
        if self.has_image():
            self.fitInView(self._item, Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        if self._auto_fit:
            self.fit()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self._auto_fit:
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt's name)
        self.zoom_by(1.25 if event.angleDelta().y() > 0 else 0.8)


def _image(b64: str | None) -> QImage | None:
    if not b64:
        return None
    image = QImage.fromData(base64.b64decode(b64))  # format detected from the bytes
    return None if image.isNull() else image


class TileGallery(QWidget):
    """One icon per master tile as it is written; the overlay box draws ALPHA or COVERAGE over the tiles."""

    ICON = 180

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._tiles: list[dict] = []
        self.overlay_box = QComboBox()
        self.overlay_box.addItem(self.tr("no overlay"), "none")
        self.overlay_box.addItem(self.tr("ALPHA (red: feathered out)"), "alpha")
        self.overlay_box.addItem(self.tr("COVERAGE (blue: few frames, yellow: most)"), "coverage")
        self.list = QListWidget()
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(QSize(self.ICON, self.ICON))
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setSpacing(6)
        bar = QHBoxLayout()
        bar.addWidget(QLabel(self.tr("Overlay")))
        bar.addWidget(self.overlay_box)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.list, 1)
        self.overlay_box.currentIndexChanged.connect(self._redraw)

    def clear(self) -> None:
        self._tiles.clear()
        self.list.clear()

    def count(self) -> int:
        return self.list.count()

    def overlay(self) -> str:
        return str(self.overlay_box.currentData())

    def set_overlay(self, name: str) -> None:
        self.overlay_box.setCurrentIndex(max(0, self.overlay_box.findData(name)))

    def add_tile(self, tile: dict) -> None:
        """``tile`` is the protocol's ``tile`` object (id, path, base64 PNG thumbnails)."""
        self._tiles.append(tile)
        item = QListWidgetItem(self._icon(tile), self.tr("tile %1").replace("%1", str(tile["tile_id"])))
        item.setToolTip(str(tile.get("path", "")))
        self.list.addItem(item)

    def pixmap(self, row: int) -> QPixmap:
        """The drawn thumbnail of row ``row`` (picture + current overlay)."""
        return self._compose(self._tiles[row])

    def _redraw(self) -> None:
        for row, tile in enumerate(self._tiles):
            self.list.item(row).setIcon(self._icon(tile))

    def _icon(self, tile: dict) -> QIcon:
        return QIcon(self._compose(tile))

    def _compose(self, tile: dict) -> QPixmap:
        base = _image(tile.get("image_png"))
        if base is None:
            return QPixmap()
        canvas = QImage(base.size(), QImage.Format.Format_ARGB32_Premultiplied)
        canvas.fill(Qt.GlobalColor.black)
        painter = QPainter(canvas)
        painter.drawImage(0, 0, base)
        overlay = _image(tile.get(f"{self.overlay()}_png")) if self.overlay() != "none" else None
        if overlay is not None:
            painter.drawImage(0, 0, overlay)
        painter.end()
        return QPixmap.fromImage(canvas)
