"""The progress area: a whole-run bar with its ETA, then one bar per phase in the order the phases start (plate
solving counts the frames settled, solved or not), each with its ETA and its latest message. The area has a fixed
height whatever the number of phases (it scrolls), so the tabs under it never move."""
from __future__ import annotations

import time

from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QProgressBar, QScrollArea, QWidget

from zemosaic.progress import ProgressEvent

__all__ = ["PhaseProgress", "PHASE_TITLES", "PHASE_WEIGHTS", "overall_fraction"]

PHASE_TITLES = {"synth": "Demo data", "scan": "Phase 1: scan", "solve": "Phase 1b: plate solving",
                "frames": "Frames on the global grid", "tiles": "Phase 3: master tiles", "sds": "SDS: sky chunks",
                "align": "  align (current tile)", "stack": "  stack (current tile)", "assemble": "Phase 5: assembly"}
"""The title of each phase's row (English source strings, context ``PhaseProgress``)."""

PHASE_WEIGHTS = {"scan": 0.05, "solve": 0.2, "frames": 0.25, "tiles": 0.55, "sds": 0.55, "assemble": 0.2}
"""The share of a run's time each phase is expected to take (sub-phases and the demo data count nothing)."""
_EXPECTED = ("scan", "tiles", "assemble")  # phases every run is expected to go through (sds replaces tiles)
_ROWS_SHOWN = 6  # the area is this many rows tall


def overall_fraction(fractions: dict[str, float]) -> float:
    """The whole run's done fraction from the phases' (those seen, plus those every run has to come)."""
    expected = [p for p in _EXPECTED if not (p == "tiles" and "sds" in fractions)]
    phases = [p for p in dict.fromkeys(expected + list(fractions)) if PHASE_WEIGHTS.get(p, 0.0) > 0]
    total = sum(PHASE_WEIGHTS[p] for p in phases)
    return sum(PHASE_WEIGHTS[p] * min(fractions.get(p, 0.0), 1.0) for p in phases) / total if total else 0.0


def _tr(text: str) -> str:
    return QCoreApplication.translate("PhaseProgress", text)


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


class PhaseProgress(QWidget):
    """The bars; ``area`` is the fixed-height scrolling frame that holds them (put it in the window)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setColumnStretch(1, 1)
        self._grid.setVerticalSpacing(2)
        self._rows: dict[str, tuple[QLabel, QProgressBar, QLabel, list[float]]] = {}
        self._fractions: dict[str, float] = {}
        self._started = 0.0
        self._empty = QLabel(_tr("Progress appears here when a run starts."))
        self._grid.addWidget(self._empty, 0, 0, 1, 3)
        self.overall_title = QLabel(_tr("Whole run"))
        self.overall_bar = QProgressBar()
        self.overall_bar.setRange(0, 1000)
        self.overall_eta = QLabel()
        for k, w in enumerate((self.overall_title, self.overall_bar, self.overall_eta)):
            self._grid.addWidget(w, 1, k)
            w.hide()
        self._grid.setRowStretch(99, 1)
        self.area = QScrollArea()
        self.area.setWidgetResizable(True)
        self.area.setFrameShape(QFrame.Shape.NoFrame)
        self.area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.area.setWidget(self)
        row = max(self.overall_bar.sizeHint().height(), self.fontMetrics().height()) + 2
        self.area.setFixedHeight(_ROWS_SHOWN * row + 8)

    def clear(self) -> None:
        for title, bar, eta, _ in self._rows.values():
            for w in (title, bar, eta):
                self._grid.removeWidget(w)
                w.deleteLater()
        self._rows.clear()
        self._fractions.clear()
        for w in (self.overall_title, self.overall_bar, self.overall_eta):
            w.hide()
        self.overall_bar.setValue(0)
        self.overall_eta.setText("")
        self._empty.show()

    def bar(self, phase: str) -> QProgressBar | None:
        row = self._rows.get(phase)
        return row[1] if row else None

    def eta_text(self, phase: str) -> str:
        row = self._rows.get(phase)
        return row[2].text() if row else ""

    def phases(self) -> list[str]:
        return list(self._rows)

    def update_event(self, event: ProgressEvent, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if not self._rows:
            self._started = now
            self._empty.hide()
            for w in (self.overall_title, self.overall_bar, self.overall_eta):
                w.show()
        row = self._rows.get(event.phase) or self._add_row(event.phase, now)
        _, bar, eta, state = row
        if event.done < state[1]:  # the phase restarted (align / stack run once per tile)
            state[0] = now
        state[1] = event.done
        fraction = min(event.fraction, 1.0) if event.total else 0.0
        bar.setValue(int(round(1000 * fraction)))
        bar.setFormat(f"{event.done}/{event.total}" if event.total else "")
        bar.setToolTip(event.message)
        if event.total and event.done >= event.total:
            eta.setText(_tr("done"))
        elif event.total and event.done > 0:
            eta.setText(_tr("%1 left").replace("%1", _duration((now - state[0]) / event.done
                                                                  * (event.total - event.done))))
        else:
            eta.setText(event.message[:40] if event.phase == "solve" else "")
        self._fractions[event.phase] = fraction
        self._update_overall(now)

    def overall_text(self) -> str:
        return self.overall_eta.text()

    def _add_row(self, phase: str, now: float) -> tuple[QLabel, QProgressBar, QLabel, list[float]]:
        bar, eta = QProgressBar(), QLabel()
        bar.setRange(0, 1000)
        eta.setMinimumWidth(120)
        n = len(self._rows) + 2
        title = QLabel(_tr(PHASE_TITLES.get(phase, phase)))
        self._grid.addWidget(title, n, 0)
        self._grid.addWidget(bar, n, 1)
        self._grid.addWidget(eta, n, 2)
        row = self._rows[phase] = (title, bar, eta, [now, 0.0])
        QTimer.singleShot(0, lambda: self.area.ensureWidgetVisible(title, 0, 0))  # the newest phase in view
        return row

    def _update_overall(self, now: float) -> None:
        fraction = overall_fraction(self._fractions)
        self.overall_bar.setValue(int(round(1000 * fraction)))
        elapsed = now - self._started
        if fraction >= 0.999:
            self.overall_eta.setText(_tr("done in %1").replace("%1", _duration(elapsed)))
        elif fraction > 0.02 and elapsed > 0:
            self.overall_eta.setText(_tr("about %1 left").replace("%1", _duration(elapsed * (1 - fraction)
                                                                                    / fraction)))
        else:
            self.overall_eta.setText(_tr("estimating..."))
