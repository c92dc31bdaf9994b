"""Typed progress events shared by the pipeline, the CLI (progress bars) and the GUI (widgets).

Long operations call ``progress_callback(ProgressEvent(...))``; they never encode progress in
log strings. A callback of ``None`` means nobody listens.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["ProgressEvent", "ProgressCallback", "emit"]


@dataclass(frozen=True)
class ProgressEvent:
    """One step of a long operation.

    phase:   short machine name ("scan", "cluster", "align", "stack", "tiles", "assemble", ...)
    done:    units finished so far
    total:   units in all (0 when unknown)
    message: one human line describing the step
    """

    phase: str
    done: int
    total: int
    message: str = ""

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


ProgressCallback = Callable[[ProgressEvent], None]


def emit(callback: ProgressCallback | None, phase: str, done: int, total: int, message: str = "") -> None:
    """Send one event to ``callback`` if there is one."""
    if callback is not None:
        callback(ProgressEvent(phase, done, total, message))
