"""The Mosaic tab: ``mosaic.fits`` shown with the user's stretch (black point, midtones, white point per channel,
linked or not, an Auto button), its per-channel histogram, a pixel readout (RA/Dec, value, weight, tiles
covering), the master tiles' outlines on demand, and "Export view" (PNG or 16-bit TIFF, full resolution, with the
chosen stretch). The picture is the mosaic read every ``step`` pixels (at most ``MAX_SIDE`` on screen); the
readout reads the full-resolution pixel under the cursor. FITS row 0 is shown at the bottom (north up)."""
from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGraphicsPolygonItem,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from zemosaic.gui.image_views import ZoomableImageView
from zemosaic.gui.stretch import Levels, auto_levels, channels_of, histograms, mtf, stretch_to_rgba

__all__ = ["MosaicPreview", "Histogram", "MAX_SIDE"]

MAX_SIDE = 2000
_CHANNEL_COLOURS = (QColor(220, 50, 47), QColor(60, 170, 60), QColor(50, 110, 230))


class Histogram(QWidget):
    """Per-channel histograms (log counts) with the black and white points of the channel shown."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.counts: np.ndarray | None = None
        self.edges: np.ndarray | None = None
        self.levels: list[Levels] = []
        self.setMinimumHeight(90)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(110)

    def set_data(self, counts: np.ndarray, edges: np.ndarray) -> None:
        self.counts, self.edges = counts, edges
        self.update()

    def set_levels(self, levels: list[Levels]) -> None:
        self.levels = list(levels)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(24, 24, 28))
        if self.counts is None or self.edges is None:
            painter.end()
            return
        w, h = self.width(), self.height()
        lo, hi = float(self.edges[0]), float(self.edges[-1])
        logc = np.log1p(self.counts.astype(float))
        top = max(float(logc.max()), 1.0)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colours = _CHANNEL_COLOURS if len(logc) == 3 else (QColor(220, 220, 220),)
        for channel, colour in zip(logc, colours, strict=False):
            xs = np.linspace(0, w - 1, len(channel))
            poly = QPolygonF([QPointF(float(x), h - 1 - (h - 4) * float(c) / top) for x, c in zip(xs, channel,
                                                                                                   strict=True)])
            painter.setPen(QPen(colour, 1.2))
            painter.drawPolyline(poly)
        for k, lv in enumerate(self.levels[: len(colours)]):
            for value in (lv.black, lv.white):
                x = (value - lo) / (hi - lo) * (w - 1)
                painter.setPen(QPen(colours[k], 1, Qt.PenStyle.DashLine))
                painter.drawLine(QPointF(x, 0), QPointF(x, h))
        painter.end()


class _PreviewView(ZoomableImageView):
    """The picture; reports the scene position under the mouse."""

    hovered = Signal(float, float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.viewport().setMouseTracking(True)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        super().mouseMoveEvent(event)
        p = self.mapToScene(event.position().toPoint())
        self.hovered.emit(p.x(), p.y())


class MosaicPreview(QWidget):
    """The stretched mosaic with its controls (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.view = _PreviewView()
        self.placeholder = QLabel(self.tr("The mosaic appears here when a run has finished."))
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.histogram = Histogram()
        self.readout = QLabel(" ")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.readout.setFixedHeight(self.readout.sizeHint().height() * 2)
        self.readout.setWordWrap(True)
        self.channel_box = QComboBox()
        self.linked = QCheckBox(self.tr("Linked channels"))
        self.linked.setChecked(True)
        self.black, self.mid, self.white = (QDoubleSpinBox() for _ in range(3))
        for box, decimals in ((self.black, 2), (self.mid, 4), (self.white, 2)):
            box.setDecimals(decimals)
            box.setKeyboardTracking(False)
        self.mid.setRange(0.0001, 0.9999)
        self.mid.setSingleStep(0.02)
        self.auto_button = QPushButton(self.tr("Auto"))
        self.auto_button.setToolTip(self.tr("Black point just below the sky, the sky at a quarter of the range"))
        self.outlines = QCheckBox(self.tr("Tile outlines"))
        self.export_button = QPushButton(self.tr("Export view..."))
        self.export_button.setToolTip(self.tr("Save the mosaic at full resolution with this stretch (PNG, or "
                                              "16-bit TIFF)"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._controls())
        layout.addWidget(self.histogram)
        layout.addWidget(self.placeholder, 1)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.readout)
        self.view.hide()
        self.data: np.ndarray | None = None  # the displayed sample, H x W x C, FITS row order
        self.levels: list[Levels] = []
        self.step = 1
        self._fits_path: Path | None = None
        self._wcs: Any = None
        self._tile_items: list[QGraphicsPolygonItem] = []
        self._tile_polys: list[QPolygonF] = []
        self._updating = False
        self.auto_button.clicked.connect(self.auto_stretch)
        self.linked.toggled.connect(self._on_linked)
        self.channel_box.currentIndexChanged.connect(self._show_channel_levels)
        for box in (self.black, self.mid, self.white):
            box.valueChanged.connect(self._on_level_edit)
        self.outlines.toggled.connect(self._show_outlines)
        self.export_button.clicked.connect(self._export_dialog)
        self.view.hovered.connect(self._on_hover)
        self._set_enabled(False)

    def _controls(self) -> QGridLayout:
        grid = QGridLayout()
        row = [(QLabel(self.tr("Channel")), self.channel_box), (QLabel(self.tr("Black")), self.black),
               (QLabel(self.tr("Midtones")), self.mid), (QLabel(self.tr("White")), self.white)]
        col = 0
        for label, widget in row:
            grid.addWidget(label, 0, col)
            grid.addWidget(widget, 0, col + 1)
            col += 2
        buttons = QHBoxLayout()
        for w in (self.auto_button, self.linked, self.outlines, self.export_button):
            buttons.addWidget(w)
        zoom = ((self.tr("Fit"), self.view.fit), (self.tr("1:1"), self.view.actual_size),
                (self.tr("Zoom in"), lambda: self.view.zoom_by(1.25)),
                (self.tr("Zoom out"), lambda: self.view.zoom_by(0.8)))
        for text, slot in zoom:
            button = QPushButton(text)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        grid.addLayout(buttons, 1, 0, 1, col)
        return grid

    # --- loading ---------------------------------------------------------------------------------
    def load(self, path: str | Path) -> bool:
        """Show a mosaic: ``mosaic.fits`` (stretch controls, readout) or any picture Qt reads (shown as it is)."""
        path = Path(path)
        if path.suffix.lower() in (".fits", ".fit", ".fts"):
            return self.load_fits(path)
        pixmap = QPixmap(str(path))
        if pixmap.isNull():
            return False
        self.data, self._fits_path = None, None
        self._set_enabled(False)
        self._show_pixmap(pixmap)
        return True

    def load_fits(self, path: str | Path) -> bool:
        from astropy.io import fits  # loaded when a mosaic is first shown
        from astropy.wcs import WCS

        path = Path(path)
        try:
            with fits.open(path, memmap=True) as hdul:
                cube = hdul[0].data
                if cube is None:
                    return False
                h, w = cube.shape[-2:]
                self.step = max(1, math.ceil(max(h, w) / MAX_SIDE))
                sample = np.asarray(cube[..., :: self.step, :: self.step], np.float32)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # astropy's notes on the header's fixes
                    self._wcs = WCS(hdul[0].header).celestial
        except (OSError, ValueError) as exc:
            self.placeholder.setText(self.tr("Cannot read %1: %2").replace("%1", path.name).replace("%2", str(exc)))
            return False
        self.data = np.moveaxis(sample, 0, -1) if sample.ndim == 3 else sample[..., None]
        self.full_shape = (h, w)
        self._fits_path = path
        names = ("R", "G", "B") if self.data.shape[2] == 3 else ("L",)
        self.channel_box.blockSignals(True)
        self.channel_box.clear()
        for k, name in enumerate(names):
            self.channel_box.addItem(name, k)
        self.channel_box.blockSignals(False)
        finite = self.data[np.isfinite(self.data)]
        span = (float(np.percentile(finite, 0.1)), float(np.percentile(finite, 99.5))) if finite.size else (0.0, 1.0)
        counts, edges = histograms(self.data, value_range=(span[0], max(span[1], span[0] + 1e-3)))
        self.histogram.set_data(counts, edges)
        self._set_ranges(float(edges[0]), float(edges[-1]))
        self._set_enabled(True)
        self._load_tile_outlines(path.parent / "master_tiles")
        self.auto_stretch()
        self.view.fit()
        return True

    def clear(self) -> None:
        self.view.clear()
        self.view.hide()
        self.placeholder.show()
        self.data = None
        self.readout.setText(" ")
        self._set_enabled(False)

    # --- stretch ---------------------------------------------------------------------------------
    def auto_stretch(self) -> None:
        if self.data is None:
            return
        self.set_levels(auto_levels(self.data, linked=self.linked.isChecked()))

    def set_levels(self, levels: list[Levels]) -> None:
        """Show the mosaic under ``levels`` (one per channel)."""
        if self.data is None:
            return
        self.levels = list(levels)
        self.histogram.set_levels(self.levels)
        self._show_channel_levels()
        self._show_pixmap(QPixmap.fromImage(self.displayed_image()))
        self._show_outlines(self.outlines.isChecked())

    def displayed_image(self) -> QImage:
        """The picture on screen (north up), as a QImage."""
        assert self.data is not None
        rgba = np.ascontiguousarray(stretch_to_rgba(self.data, self.levels)[::-1])
        image = QImage(rgba.data, rgba.shape[1], rgba.shape[0], 4 * rgba.shape[1], QImage.Format.Format_RGBA8888)
        return image.copy()

    def _on_linked(self, linked: bool) -> None:
        if self.levels and linked:
            k = int(self.channel_box.currentData() or 0)
            self.set_levels([self.levels[k]] * len(self.levels))

    def _show_channel_levels(self) -> None:
        if not self.levels:
            return
        lv = self.levels[int(self.channel_box.currentData() or 0)]
        self._updating = True
        self.black.setValue(lv.black)
        self.mid.setValue(lv.mid)
        self.white.setValue(lv.white)
        self._updating = False

    def _on_level_edit(self) -> None:
        if self._updating or not self.levels:
            return
        new = Levels(self.black.value(), self.mid.value(), max(self.white.value(), self.black.value() + 1e-6))
        k = int(self.channel_box.currentData() or 0)
        levels = [new] * len(self.levels) if self.linked.isChecked() else \
            [new if i == k else lv for i, lv in enumerate(self.levels)]
        self.set_levels(levels)

    def _set_ranges(self, lo: float, hi: float) -> None:
        span = max(hi - lo, 1.0)
        for box in (self.black, self.white):
            box.setRange(lo - span, hi + 10 * span)
            box.setSingleStep(span / 200)

    def _set_enabled(self, on: bool) -> None:
        for w in (self.channel_box, self.linked, self.black, self.mid, self.white, self.auto_button, self.outlines,
                  self.export_button):
            w.setEnabled(on)

    def _show_pixmap(self, pixmap: QPixmap) -> None:
        fit = not self.view.has_image()
        self.view.set_pixmap(pixmap) if fit else self.view._item.setPixmap(pixmap)
        self.placeholder.hide()
        self.view.show()

    # --- readout ---------------------------------------------------------------------------------
    def pixel_info(self, x_full: int, y_full: int) -> dict | None:
        """What the readout says of full-resolution pixel (x, y) of ``mosaic.fits``: ``ra``, ``dec``, ``value``
        (per channel), ``weight``, ``tiles`` (master tiles whose outline holds it); None outside the mosaic."""
        if self._fits_path is None or not (0 <= y_full < self.full_shape[0] and 0 <= x_full < self.full_shape[1]):
            return None
        from astropy.io import fits  # loaded with the mosaic already

        with fits.open(self._fits_path, memmap=True) as hdul:
            cube = hdul[0].data
            value = np.atleast_1d(np.asarray(cube[..., y_full, x_full], np.float64))
            weight = float(hdul["WEIGHT"].data[y_full, x_full]) if "WEIGHT" in hdul else None
        ra, dec = (float(v) for v in self._wcs.pixel_to_world_values(x_full, y_full))
        point = QPointF((x_full + 0.5) / self.step, self.data.shape[0] - (y_full + 0.5) / self.step) \
            if self.data is not None else QPointF()
        tiles = sum(poly.containsPoint(point, Qt.FillRule.OddEvenFill) for poly in self._tile_polys)
        return {"ra": ra, "dec": dec, "value": value.tolist(), "weight": weight, "tiles": int(tiles)}

    def _on_hover(self, sx: float, sy: float) -> None:
        if self.data is None:
            return
        x_full = int(math.floor(sx * self.step))
        y_full = int(math.floor((self.data.shape[0] - sy) * self.step))
        info = self.pixel_info(x_full, y_full)
        if info is None:
            self.readout.setText(" ")
            return
        self.readout.setText(self.readout_text(x_full, y_full, info))

    def readout_text(self, x: int, y: int, info: dict) -> str:
        values = " ".join("-" if not np.isfinite(v) else f"{v:.1f}" for v in info["value"])
        weight = "-" if info["weight"] is None else f"{info['weight']:.3g}"
        return (self.tr("x %1  y %2   RA %3  Dec %4   value %5   weight %6   tiles covering %7")
                .replace("%1", str(x)).replace("%2", str(y)).replace("%3", _hms(info["ra"]))
                .replace("%4", _dms(info["dec"])).replace("%5", values).replace("%6", weight)
                .replace("%7", str(info["tiles"])))

    # --- tile outlines -------------------------------------------------------------------------
    def _load_tile_outlines(self, folder: Path) -> None:
        from astropy.io import fits  # loaded with the mosaic already
        from astropy.wcs import WCS

        for item in self._tile_items:
            self.view.scene().removeItem(item)
        self._tile_items, self._tile_polys = [], []
        if self._wcs is None or self.data is None or not folder.is_dir():
            return
        for tile in sorted(folder.glob("master_tile_*.fits")):
            try:
                header = fits.getheader(tile)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    wcs = WCS(header).celestial
                h, w = int(header["NAXIS2"]), int(header["NAXIS1"])
            except (OSError, ValueError, KeyError):
                continue
            xs, ys = np.array([0, w - 1, w - 1, 0], float), np.array([0, 0, h - 1, h - 1], float)
            mx, my = self._wcs.world_to_pixel_values(*wcs.pixel_to_world_values(xs, ys))
            poly = QPolygonF([QPointF(float(x) / self.step, self.data.shape[0] - float(y) / self.step)
                              for x, y in zip(mx, my, strict=True)])
            self._tile_polys.append(poly)

    def _show_outlines(self, shown: bool) -> None:
        for item in self._tile_items:
            self.view.scene().removeItem(item)
        self._tile_items = []
        if not shown:
            return
        for k, poly in enumerate(self._tile_polys):
            item = self.view.scene().addPolygon(poly, QPen(QColor(255, 200, 60), 0))
            item.setToolTip(self.tr("tile %1").replace("%1", str(k)))
            self._tile_items.append(item)

    def tile_outline_count(self) -> int:
        return len(self._tile_items)

    # --- export --------------------------------------------------------------------------------
    def export_view(self, path: str | Path) -> Path:
        """Write the mosaic at full resolution with the current stretch: PNG (8-bit RGBA) or TIFF (16-bit RGBA),
        north up; transparent where nothing was covered. Raises OSError when it cannot be written."""
        from astropy.io import fits

        path = Path(path)
        if self._fits_path is None:
            raise OSError("no mosaic to export")
        sixteen = path.suffix.lower() in (".tif", ".tiff")
        with fits.open(self._fits_path, memmap=True) as hdul:
            cube = hdul[0].data
            h, w = cube.shape[-2:]
            out = np.zeros((h, w, 4), np.uint16 if sixteen else np.uint8)
            for y0 in range(0, h, 512):  # row chunks: memory bounded by the chunk
                block = np.asarray(cube[..., y0:y0 + 512, :], np.float32)
                block = np.moveaxis(block, 0, -1) if block.ndim == 3 else block
                out[y0:y0 + 512] = _stretched(block, self.levels, sixteen)
        out = out[::-1]
        if sixteen:
            import tifffile

            tifffile.imwrite(path, out, photometric="rgb", extrasamples=["unassalpha"], compression="deflate")
        else:
            from PIL import Image

            Image.fromarray(out, "RGBA").save(path)
        return path

    def _export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export view"), "mosaic_view.png",
                                              self.tr("PNG (*.png);;16-bit TIFF (*.tif)"))
        if path:
            try:
                self.export_view(path)
            except OSError as exc:
                self.readout.setText(str(exc))


def _stretched(block: np.ndarray, levels: list[Levels], sixteen: bool) -> np.ndarray:
    if not sixteen:
        return stretch_to_rgba(block, levels)
    planes = channels_of(block)
    if len(planes) == 1:
        planes *= 3
        levels = [levels[0]] * 3
    out = np.zeros(block.shape[:2] + (4,), np.uint16)
    valid = np.ones(block.shape[:2], bool)
    for c, (plane, lv) in enumerate(zip(planes, levels, strict=False)):
        finite = np.isfinite(plane)
        valid &= finite
        x = (np.where(finite, plane, lv.black) - lv.black) / max(lv.white - lv.black, 1e-12)
        out[..., c] = np.round(65535.0 * mtf(lv.mid, x))
    out[..., 3] = np.where(valid, 65535, 0)
    return out


def _hms(ra: float) -> str:
    h = (ra % 360.0) / 15.0
    hh, mm = int(h), int((h % 1) * 60)
    return f"{hh:02d}h{mm:02d}m{((h * 60) % 1) * 60:04.1f}s"


def _dms(dec: float) -> str:
    sign = "-" if dec < 0 else "+"
    d = abs(dec)
    return f"{sign}{int(d):02d}°{int((d % 1) * 60):02d}'{((d * 60) % 1) * 60:04.1f}\""

