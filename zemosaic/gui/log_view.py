"""The log view: the run's log records, filterable by level, tag and text (display only, nothing is parsed)."""
from __future__ import annotations

import logging
import time

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QVBoxLayout, QWidget

__all__ = ["LogView"]

_LEVELS = (("DEBUG", logging.DEBUG), ("INFO", logging.INFO), ("WARNING", logging.WARNING),
           ("ERROR", logging.ERROR))
_MAX_RECORDS = 50000


class LogView(QWidget):
    """Records are the protocol's ``log`` objects (``level``, ``levelno``, ``tag``, ``logger``, ``message``)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._records: list[dict] = []
        self.level_box = QComboBox()
        for name, number in _LEVELS:
            self.level_box.addItem(self.tr(name), number)
        self.level_box.setCurrentIndex(1)
        self.tag_box = QComboBox()
        self.tag_box.addItem(self.tr("all tags"), "")
        self.text_filter = QLineEdit()
        self.text_filter.setPlaceholderText(self.tr("filter text"))
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.wrap_box = QCheckBox(self.tr("Wrap lines"))
        self.wrap_box.setChecked(True)
        self.wrap_box.toggled.connect(self._set_wrap)
        self._set_wrap(True)
        bar = QHBoxLayout()
        bar.addWidget(QLabel(self.tr("Level at least")))
        bar.addWidget(self.level_box)
        bar.addWidget(QLabel(self.tr("Tag")))
        bar.addWidget(self.tag_box, 1)
        bar.addWidget(self.text_filter, 2)
        bar.addWidget(self.wrap_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.text, 1)
        self.level_box.currentIndexChanged.connect(self._refilter)
        self.tag_box.currentIndexChanged.connect(self._refilter)
        self.text_filter.textChanged.connect(self._refilter)

    def clear(self) -> None:
        self._records.clear()
        self.text.clear()

    def add_record(self, record: dict) -> None:
        self._records.append(record)
        if len(self._records) > _MAX_RECORDS:
            del self._records[: _MAX_RECORDS // 10]
        tag = str(record.get("tag", ""))
        if tag and self.tag_box.findData(tag) < 0:
            self.tag_box.addItem(tag, tag)
        if self._accepts(record):
            self.text.appendPlainText(self._line(record))
            self.text.horizontalScrollBar().setValue(0)  # lines read from their start

    def visible_lines(self) -> list[str]:
        """The lines shown now (for tests)."""
        text = self.text.toPlainText()
        return text.splitlines() if text else []

    def set_filter(self, *, level: int | None = None, tag: str | None = None, text: str | None = None) -> None:
        if level is not None:
            self.level_box.setCurrentIndex(max(0, self.level_box.findData(level)))
        if tag is not None:
            self.tag_box.setCurrentIndex(max(0, self.tag_box.findData(tag)))
        if text is not None:
            self.text_filter.setText(text)

    def _accepts(self, record: dict) -> bool:
        if int(record.get("levelno", logging.INFO)) < int(self.level_box.currentData()):
            return False
        tag = self.tag_box.currentData()
        if tag and record.get("tag") != tag:
            return False
        needle = self.text_filter.text().strip().lower()
        return not needle or needle in str(record.get("message", "")).lower()

    def _refilter(self) -> None:
        lines = [self._line(r) for r in self._records if self._accepts(r)]
        self.text.setPlainText("\n".join(lines))
        self.text.moveCursor(self.text.textCursor().MoveOperation.End)
        self.text.moveCursor(self.text.textCursor().MoveOperation.StartOfLine)  # newest line, from its start
        self.text.horizontalScrollBar().setValue(0)

    def _set_wrap(self, wrap: bool) -> None:
        """Long lines wrap at the view's width (default), or scroll sideways from their start."""
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth if wrap
                                  else QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.horizontalScrollBar().setValue(0)

    @staticmethod
    def _line(record: dict) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(float(record.get("time", 0.0))))
        return f"{stamp} {record.get('level', ''):<7} [{record.get('tag', '')}] {record.get('message', '')}"
