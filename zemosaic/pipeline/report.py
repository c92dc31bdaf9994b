"""What a run records about itself: rejected inputs, per-tile decisions, phase timings, the log file.

The worker fills a :class:`RunReport` as it goes and writes it as ``run_report.json`` at the end;
:func:`run_log_file` attaches ``zemosaic.log`` to the root logger for the duration of a run.
"""
from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zemosaic.io.atomic import atomic_write_bytes

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

__all__ = ["RejectedInput", "TileReport", "RunReport", "run_log_file", "phase_timer", "cpu_seconds"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RejectedInput:
    """An input file the run could not use, and why (one line)."""

    path: str
    reason: str
    phase: str


@dataclass
class TileReport:
    """Everything the run decided about one master tile."""

    tile_id: int
    path: str | None = None
    frames_in_group: int = 0
    frames_used: int = 0
    frames_failed: list[dict] = field(default_factory=list)
    alignment_methods: dict[str, int] = field(default_factory=dict)
    frames: list[dict] = field(default_factory=list)
    cleanup_enabled: bool = False
    cleanup_reason: str = ""
    coverage_used: bool = False
    coverage_decision: str = ""
    coverage_stats: dict | None = None
    thresholds: dict = field(default_factory=dict)
    alpha_stats: dict | None = None
    field_fraction_kept: float | None = None
    quality_crop_rect: list[int] | None = None
    edge_trim_rect: list[int] | None = None
    stack: dict = field(default_factory=dict)
    background: dict = field(default_factory=dict)
    shape: list[int] | None = None
    canvas: dict | None = None
    timings_s: dict[str, float] = field(default_factory=dict)
    frame_quality: list[dict] = field(default_factory=list)  # per frame (slot order): measures and decision
    quality_signature: list | None = None  # the gate's decisions, compared by --resume
    quality_warnings: list[str] = field(default_factory=list)


@dataclass
class RunReport:
    """The whole run: inputs, mode, phases, tiles, mosaic."""

    input_dir: str
    output_dir: str
    mode: str
    config: dict
    mode_info: dict | None = None
    frames_found: int = 0
    frames_scanned_ok: int = 0
    rejected_inputs: list[RejectedInput] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)
    astrometry: dict | None = None
    groups: list[dict] = field(default_factory=list)
    tiles: list[TileReport] = field(default_factory=list)
    harmony: dict | None = None
    sky_motion: dict | None = None  # Phase 5.5, mosaic_background=motion: the joint sky fit, or why it fell back
    mosaic: dict | None = None
    phase_timings_s: dict[str, float] = field(default_factory=dict)
    phase_cpu_s: dict[str, float] = field(default_factory=dict)  # CPU seconds (all threads and worker processes)
    status: str = "running"  # ok, nothing_usable, refused, interrupted, disk_error, os_error, failed
    current_phase: str | None = None  # the phase running (or the one a stopped run was in)
    interrupted: dict | None = None  # {"signal": ..., "phase": ...} when a signal stopped the run
    error: str | None = None  # the one-line reason a run stopped early
    resume: dict | None = None  # --resume: tiles reused and rebuilt
    targets: list[dict] = field(default_factory=list)  # groups far from all others: separate targets
    mosaic_check: dict | None = None  # the mosaic's size and coverage estimate, checked before allocation
    input_files: list[dict] = field(default_factory=list)  # every file of the input folder: used/rejected/ignored
    frame_quality: dict | None = None  # the quality gate: frame_exclude list, frames.csv, counts

    def reject(self, path: Path | str, reason: str, phase: str) -> None:
        """Record a rejected input and log it as one WARNING line naming the file."""
        self.rejected_inputs.append(RejectedInput(str(path), reason, phase))
        log.warning("input rejected (%s): %s: %s", phase, path, reason)

    def write(self, path: Path) -> Path:
        """Write the report as JSON, atomically."""
        text = json.dumps(asdict(self), indent=2, default=_json_default)
        return atomic_write_bytes(path, text.encode("utf-8"))


def _json_default(value: Any):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


@contextlib.contextmanager
def run_log_file(path: Path, *, debug: bool = False) -> Iterator[logging.Handler]:
    """Send every log record of the run to ``path`` while the block runs."""
    # backslashreplace: a file name that is not valid UTF-8 (kept by Python as surrogate escapes) is written as
    # \udcff instead of breaking the record ("--- Logging error --- UnicodeEncodeError")
    handler = logging.FileHandler(path, mode="w", encoding="utf-8", errors="backslashreplace")
    handler.setLevel(logging.DEBUG if debug else logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(min(old_level or logging.WARNING, handler.level))
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()


@contextlib.contextmanager
def phase_timer(report: RunReport, name: str) -> Iterator[None]:
    """Time a phase into ``report.phase_timings_s[name]`` (wall) and ``report.phase_cpu_s[name]`` (CPU seconds of
    this process's threads and of the worker processes it waited for: their ratio says how busy the cores were)."""
    start, cpu = time.perf_counter(), cpu_seconds()
    report.current_phase = name
    try:
        yield
    finally:
        report.phase_timings_s[name] = round(time.perf_counter() - start, 3)
        report.phase_cpu_s[name] = round(cpu_seconds() - cpu, 3)


def cpu_seconds() -> float:
    """User + system CPU seconds of this process (every thread) and of its children that have ended."""
    own = time.process_time()
    if resource is None:  # Windows: the children's time is not available
        return own
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own + children.ru_utime + children.ru_stime
