"""The settings panel, generated from the configuration registry (:class:`zemosaic.config.ZeMosaicConfig`).

Each key is shown by a plain label and a one-line explanation (:mod:`zemosaic.gui.labels`), its key as a
secondary detail and, with the registry's full documentation, in the tooltip. The keys are grouped by what a user
decides (Input, Plate solving, Frames, Stacking, Tiles and mask, Mosaic, Output); the expert ones of each group are
folded until "Show expert settings" is ticked. The run presets (:data:`zemosaic.config.RUN_PRESETS`, the same as
``zemosaic run --preset NAME``) set several keys at once and say which. Widgets follow each key's type and
metadata (``choices``, ``low``, ``high``); a list key whose values are known (export formats, output presets,
quality rules) is a row of check boxes. Values are validated by :func:`zemosaic.config.resolve_config`; the JSON
loaded and saved is the flat ``{key: value}`` object ``zemosaic run --config`` reads.
"""
from __future__ import annotations

import dataclasses
import html
import json
import typing
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QTimer, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from zemosaic.config import EXPORT_FORMATS, OUTPUT_PRESETS, RUN_PRESETS, ZeMosaicConfig, resolve_config
from zemosaic.gui.labels import PRESET_TITLES, SECTIONS, TR_CONTEXT, choice_label, label

__all__ = ["SECTIONS", "PRESET_TITLES", "SettingsPanel", "help_colour"]

_TYPES = typing.get_type_hints(ZeMosaicConfig)
_FIELDS = {f.name: f for f in dataclasses.fields(ZeMosaicConfig)}
_LIST_CHOICES = {"export_formats": EXPORT_FORMATS, "output_presets": OUTPUT_PRESETS,
                 "frame_reject_rules": ("fwhm", "elongation", "transparency", "sky", "stars")}
_HELP_MIX = 0.30  # help text: the text colour moved this far towards the window colour (contrast >= 4.5:1)


def _tr(text: str) -> str:
    return QCoreApplication.translate(TR_CONTEXT, text)


def help_colour(palette: QPalette) -> QColor:
    """The colour of the explanations: quieter than the text, still >= 4.5:1 on the window colour."""
    text, window = palette.color(QPalette.ColorRole.WindowText), palette.color(QPalette.ColorRole.Window)
    mix = [round(a + (b - a) * _HELP_MIX) for a, b in ((text.red(), window.red()), (text.green(), window.green()),
                                                        (text.blue(), window.blue()))]
    return QColor(*mix)


class _FloatSpin(QDoubleSpinBox):
    """A float box that shows 0.4 as 0.4 (not 0.400000) and keeps six decimals."""

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt's name)
        return f"{value:.6g}"


class _Choices(QWidget):
    """A list key with known values: one check box per value."""

    changed = Signal()

    def __init__(self, values: typing.Sequence[str], parent: QWidget | None = None):
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.boxes: dict[str, QCheckBox] = {}
        for k, value in enumerate(values):
            box = self.boxes[value] = QCheckBox(value)
            box.setObjectName(f"choice_{value}")
            box.toggled.connect(self.changed)
            grid.addWidget(box, k // 3, k % 3)

    def value(self) -> list[str]:
        return [v for v, box in self.boxes.items() if box.isChecked()]

    def set_value(self, values: typing.Iterable[str]) -> None:
        chosen = set(values)
        for v, box in self.boxes.items():
            box.setChecked(v in chosen)


class SettingsPanel(QWidget):
    """One widget per configuration key. ``changed`` is emitted on every edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._widgets: dict[str, QWidget] = {}
        self._notes: list[QLabel] = []
        self.expert_parts: list[QWidget] = []
        inner = QWidget()
        column = QVBoxLayout(inner)
        column.addWidget(self._preset_box())
        self.sections: dict[str, QGroupBox] = {}
        for title, shown, expert in SECTIONS:
            column.addWidget(self._section(title, shown, expert))
        column.addStretch(1)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setWidget(inner)
        self.advanced_toggle = QCheckBox(self.tr("Show expert settings"))
        self.advanced_toggle.toggled.connect(self._show_advanced)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.advanced_toggle)  # above the groups, where it is seen
        layout.addWidget(self.scroll_area)
        self.set_config(ZeMosaicConfig())
        self._recolour_notes()

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

    def apply_preset(self, name: str) -> dict[str, Any]:
        """Set the keys of run preset ``name`` (KeyError for an unknown one); returns what it set."""
        keys = RUN_PRESETS[name]
        for key, value in keys.items():
            self.set_value(key, value)
        self.preset_box.setCurrentIndex(max(0, self.preset_box.findData(name)))
        self._set_preset_text(self.preset_description(name))
        return dict(keys)

    @staticmethod
    def preset_description(name: str) -> str:
        """What preset ``name`` sets, one "label: value" a line (translated)."""
        return "\n".join(f"{_tr(label(key)[0])}: {_shown_value(key, value)}"
                         for key, value in RUN_PRESETS[name].items())

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

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            self._recolour_notes()

    # --- private -------------------------------------------------------------------------------
    def _preset_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Preset"))
        grid = QVBoxLayout(box)
        row = QHBoxLayout()
        self.preset_box = QComboBox()
        self.preset_box.addItem(self.tr("(choose a preset)"), "")
        for name, title in PRESET_TITLES.items():
            self.preset_box.addItem(_tr(title), name)
        self.preset_apply = QPushButton(self.tr("Apply"))
        self.preset_apply.setToolTip(self.tr("Set the keys listed below; every other setting is kept."))
        row.addWidget(self.preset_box, 1)
        row.addWidget(self.preset_apply)
        grid.addLayout(row)
        self.preset_text = QLabel(self.tr("A preset sets several settings at once; choose one to see which."))
        self.preset_text.setWordWrap(True)
        self._notes.append(self.preset_text)
        grid.addWidget(self.preset_text)
        self.preset_box.currentIndexChanged.connect(self._preview_preset)
        self.preset_apply.clicked.connect(lambda: self.preset_box.currentData() and self.apply_preset(
            str(self.preset_box.currentData())))
        return box

    def _preview_preset(self) -> None:
        name = str(self.preset_box.currentData() or "")
        self._set_preset_text(self.tr("Sets:") + "\n" + self.preset_description(name) if name else
                              self.tr("A preset sets several settings at once; choose one to see which."))

    def _set_preset_text(self, text: str) -> None:
        """Show ``text`` in a label tall enough for it (a wrapped label in a scroll area may otherwise keep its
        old height)."""
        self.preset_text.setText(text)
        width = max(self.preset_text.width(), 240)
        self.preset_text.setMinimumHeight(self.preset_text.heightForWidth(width))

    def _show_advanced(self, shown: bool) -> None:
        for part in self.expert_parts:
            part.setVisible(shown)
        if shown and self.expert_parts:
            QTimer.singleShot(0, lambda: self.scroll_area.ensureWidgetVisible(self.expert_parts[0], 0, 0))

    def _section(self, title: str, shown, expert) -> QGroupBox:
        box = self.sections[title] = QGroupBox(_tr(title))
        column = QVBoxLayout(box)
        column.addWidget(self._rows(shown))
        if expert:
            part = self._rows(expert)
            part.setObjectName(f"expert_{title}")
            part.setVisible(False)
            self.expert_parts.append(part)
            column.addWidget(part)
        return box

    def _rows(self, keys) -> QWidget:
        holder = QWidget()
        form = QFormLayout(holder)
        form.setContentsMargins(0, 0, 0, 0)
        for key in keys:
            widget = self._make_widget(key)
            text, explanation = (_tr(t) for t in label(key))
            tip = f"<b>{html.escape(text)}</b> (<code>{key}</code>)<br>{html.escape(_FIELDS[key].metadata['doc'])}"
            widget.setToolTip(tip)
            name = QLabel(text)
            name.setToolTip(tip)
            name.setBuddy(widget)
            name.setWordWrap(True)
            cell = QWidget()
            lines = QVBoxLayout(cell)
            lines.setContentsMargins(0, 0, 0, 0)
            lines.setSpacing(1)
            lines.addWidget(widget)
            note = QLabel(f"{html.escape(explanation)} <code>{key}</code>")
            note.setObjectName(f"help_{key}")
            note.setWordWrap(True)
            note.setToolTip(tip)
            self._notes.append(note)
            lines.addWidget(note)
            form.addRow(name, cell)
            self._widgets[key] = widget
        return holder

    def _recolour_notes(self) -> None:
        colour = help_colour(self.palette())
        for note in self._notes:
            palette = note.palette()
            palette.setColor(QPalette.ColorRole.WindowText, colour)
            note.setPalette(palette)

    def _make_widget(self, key: str) -> QWidget:
        kind, meta = _TYPES[key], _FIELDS[key].metadata
        widget: QWidget
        if key in _LIST_CHOICES:
            choices = _Choices(_LIST_CHOICES[key])
            choices.changed.connect(self.changed)
            widget = choices
        elif "choices" in meta:
            combo = QComboBox()
            for choice in meta["choices"]:
                combo.addItem(_tr(choice_label(key, choice)), choice)
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
        if isinstance(widget, _Choices):
            return widget.value()
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
        if isinstance(widget, _Choices):
            widget.set_value(value)
        elif isinstance(widget, QComboBox):
            widget.setCurrentIndex(widget.findData(value))
        elif isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        elif isinstance(widget, (QSpinBox, QDoubleSpinBox)):
            widget.setValue(value)
        elif isinstance(widget, QLineEdit):
            widget.setText(json.dumps(value) if _TYPES[key] is list else str(value))


def _shown_value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return _tr("on") if value else _tr("off")
    return _tr(choice_label(key, value)) if isinstance(value, str) else str(value)
