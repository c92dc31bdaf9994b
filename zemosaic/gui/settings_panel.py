"""The settings panel, generated from the configuration registry (:class:`zemosaic.config.ZeMosaicConfig`).

The keys a user tunes are grouped and explained (each with its registry documentation); every other key is in
the Advanced group, shown on demand. Widgets follow each key's type and metadata (``choices``, ``low``,
``high``). Values are validated by :func:`zemosaic.config.resolve_config`; the JSON loaded and saved is the flat
``{key: value}`` object ``zemosaic run --config`` reads.
"""
from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from zemosaic.config import ZeMosaicConfig, resolve_config

__all__ = ["GROUPS", "SettingsPanel"]

# (title, keys): the settings a user tunes, explained in place; every other key goes to "Advanced".
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Mode", ("mode", "grid_tile_size_px", "grid_overlap_fraction", "sds_chunk_px")),
    ("Alt-Az cleanup (coverage mask)", ("altaz_cleanup_enabled", "altaz_use_coverage", "altaz_min_coverage_abs",
                                        "altaz_min_coverage_frac", "altaz_morph_open_px", "altaz_margin_percent",
                                        "quality_crop_enabled")),
    ("Stacking", ("stack_normalize_method", "stack_weighting_method", "stack_rejection_algorithm",
                  "stack_final_combine", "stack_sigma_low", "stack_sigma_high", "use_gpu", "max_workers")),
    ("Background", ("background_poly_order", "background_flatten_reference", "mosaic_background")),
    ("Tile harmony", ("harmonize_enabled", "harmonize_plane")),
    ("Plate solving", ("wcs_source", "plate_solver", "solve_search_radius_deg", "astap_path")),
)
_TYPES = typing.get_type_hints(ZeMosaicConfig)
_FIELDS = {f.name: f for f in dataclasses.fields(ZeMosaicConfig)}


def _tr(text: str) -> str:
    return QCoreApplication.translate("SettingsPanel", text)


class _FloatSpin(QDoubleSpinBox):
    """A float box that shows 0.4 as 0.4 (not 0.400000) and keeps six decimals."""

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt's name)
        return f"{value:.6g}"


class SettingsPanel(QWidget):
    """One widget per configuration key. ``changed`` is emitted on every edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._widgets: dict[str, QWidget] = {}
        inner = QWidget()
        column = QVBoxLayout(inner)
        grouped = {key for _, keys in GROUPS for key in keys}
        for title, keys in GROUPS:
            column.addWidget(self._group(_tr(title), keys, explained=True))
        self.advanced_toggle = QCheckBox(self.tr("Show every key (advanced)"))
        self.advanced_group = self._group(self.tr("Advanced: every other key"),
                                          [k for k in _FIELDS if k not in grouped], explained=False)
        self.advanced_group.setVisible(False)
        column.addWidget(self.advanced_group)
        column.addStretch(1)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setWidget(inner)
        self.advanced_toggle.toggled.connect(self._show_advanced)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.advanced_toggle)  # above the groups, where it is seen
        layout.addWidget(self.scroll_area)
        self.set_config(ZeMosaicConfig())

    # --- public --------------------------------------------------------------------------------
    def widget(self, key: str) -> QWidget:
        return self._widgets[key]

    def values(self) -> dict[str, Any]:
        """The widgets' values, not yet validated (a text box may hold anything)."""
        return {key: self._read(key, w) for key, w in self._widgets.items()}

    def config(self) -> ZeMosaicConfig:
        """The validated configuration; raises :class:`zemosaic.config.ConfigError` naming a bad key."""
        return resolve_config(base=self.values())

    def set_config(self, cfg: ZeMosaicConfig) -> None:
        for key, value in dataclasses.asdict(cfg).items():
            self._write(key, self._widgets[key], value)

    def set_value(self, key: str, value: Any) -> None:
        self._write(key, self._widgets[key], value)

    def load_json(self, path: str | Path) -> ZeMosaicConfig:
        """Load a JSON file the CLI reads (keys absent take their defaults); raises ConfigError."""
        cfg = resolve_config(config_file=path)
        self.set_config(cfg)
        return cfg

    def save_json(self, path: str | Path) -> ZeMosaicConfig:
        """Save every key as the flat JSON object ``zemosaic run --config`` reads; raises ConfigError first
        when a value is invalid."""
        cfg = self.config()
        Path(path).write_text(json.dumps(dataclasses.asdict(cfg), indent=2) + "\n", encoding="utf-8")
        return cfg

    # --- private -------------------------------------------------------------------------------
    def _show_advanced(self, shown: bool) -> None:
        self.advanced_group.setVisible(shown)
        if shown:
            QTimer.singleShot(0, lambda: self.scroll_area.ensureWidgetVisible(self.advanced_group, 0, 0))

    def _group(self, title: str, keys, *, explained: bool) -> QGroupBox:
        box = QGroupBox(title)
        form = QFormLayout(box)
        for key in keys:
            widget = self._make_widget(key)
            doc = _tr(_FIELDS[key].metadata["doc"])
            widget.setToolTip(f"{key}: {doc}")
            label = QLabel(key)
            label.setToolTip(doc)
            if explained:
                holder = QWidget()
                lines = QVBoxLayout(holder)
                lines.setContentsMargins(0, 0, 0, 0)
                lines.setSpacing(1)
                lines.addWidget(widget)
                note = QLabel(doc)
                note.setWordWrap(True)
                note.setEnabled(False)  # the palette's disabled text: readable in light and dark palettes
                lines.addWidget(note)
                form.addRow(label, holder)
            else:
                form.addRow(label, widget)
            self._widgets[key] = widget
        return box

    def _make_widget(self, key: str) -> QWidget:
        kind, meta = _TYPES[key], _FIELDS[key].metadata
        widget: QWidget
        if "choices" in meta:
            combo = QComboBox()
            for choice in meta["choices"]:
                combo.addItem(str(choice), choice)
            combo.currentIndexChanged.connect(self.changed)
            widget = combo
        elif kind is bool:
            check = QCheckBox()
            check.toggled.connect(self.changed)
            widget = check
        elif kind is int:
            spin = QSpinBox()
            spin.setRange(int(meta.get("low", -10**9)), int(meta.get("high", 10**9)))
            spin.valueChanged.connect(self.changed)
            widget = spin
        elif kind is float:
            fspin = _FloatSpin()
            fspin.setDecimals(6)
            low, high = float(meta.get("low", -1e12)), float(meta.get("high", 1e12))
            fspin.setRange(low, high)
            fspin.setSingleStep(0.05 if high - low <= 1.0 else 1.0 if high - low <= 1e3 else 10.0)
            fspin.valueChanged.connect(self.changed)
            widget = fspin
        else:  # str and list (a list is written as JSON, e.g. [0.05, 0.05])
            line = QLineEdit()
            line.textChanged.connect(self.changed)
            widget = line
        widget.setObjectName(f"setting_{key}")
        return widget

    @staticmethod
    def _read(key: str, widget: QWidget) -> Any:
        if isinstance(widget, QComboBox):
            return widget.currentData()
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
            return widget.value()
        assert isinstance(widget, QLineEdit)
        text = widget.text()
        if _TYPES[key] is list:
            try:
                return json.loads(text or "[]")
            except ValueError:
                return text  # resolve_config names the key and says a list is expected
        return text

    @staticmethod
    def _write(key: str, widget: QWidget, value: Any) -> None:
        if isinstance(widget, QComboBox):
            widget.setCurrentIndex(widget.findData(value))
        elif isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        elif isinstance(widget, (QSpinBox, QDoubleSpinBox)):
            widget.setValue(value)
        elif isinstance(widget, QLineEdit):
            widget.setText(json.dumps(value) if _TYPES[key] is list else str(value))
