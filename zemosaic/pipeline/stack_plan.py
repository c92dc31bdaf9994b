"""``stack_plan.csv``: the survey plan that puts a run in GRID mode (the original ZeMosaic's format).

A plan lists the frames to use, one per row, with optional columns (the original's names and aliases, any case):

=========  ==============================================================  ===================================
column     aliases                                                         default when the column is absent
=========  ==============================================================  ===================================
path       ``file_path``, ``filepath``, ``file``, ``path``, ``filename``,   (required)
           ``fits``, ``raw``
exposure   ``exposure``, ``exp``, ``exptime``, ``exposure_s``              1.0 (seconds)
filter     ``filter``, ``band``, ``channel``                               None
batch      ``batch_id``, ``batch``, ``session``, ``night``                 None (batches from the frame times)
order      ``order``, ``seq``, ``sequence``, ``index``                     the row number (0-based)
mount      ``mount``, ``eqmode``, ``mount_mode``                           None (the frame header's EQMODE)
=========  ==============================================================  ===================================

A path is absolute or relative to the plan's folder; a Windows path written on another machine
(``D:\\ASTRO\\night1\\Light_001.fit``) is looked up under the plan's folder by its tail, then by its name. The
delimiter is sniffed (``,`` ``;`` tab ``|``). A row whose path is empty, whose file does not exist or whose exposure
or order is not a number is rejected with its line number (:class:`PlanRow` ``reason``); the other rows are used.
"""
from __future__ import annotations

import csv
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

__all__ = ["PLAN_NAME", "PlanRow", "StackPlan", "StackPlanError", "find_stack_plan", "load_stack_plan"]

log = logging.getLogger(__name__)

PLAN_NAME = "stack_plan.csv"
"""File name that marks an input folder as a GRID survey plan."""

_PATH_KEYS = ("file_path", "filepath", "file", "path", "filename", "fits", "raw")
_EXPOSURE_KEYS = ("exposure", "exp", "exptime", "exposure_s")
_FILTER_KEYS = ("filter", "band", "channel")
_BATCH_KEYS = ("batch_id", "batch", "session", "night")
_ORDER_KEYS = ("order", "seq", "sequence", "index")
_MOUNT_KEYS = ("mount", "eqmode", "mount_mode")
_MOUNTS = {"eq": "equatorial", "equatorial": "equatorial", "gem": "equatorial", "german": "equatorial",
           "1": "equatorial", "altz": "altaz", "alt-az": "altaz", "alt/az": "altaz", "altaz": "altaz",
           "alt-azm": "altaz", "altitude-azimuth": "altaz", "0": "altaz"}


class StackPlanError(ValueError):
    """The plan cannot be read at all (no header with a path column, unreadable file); the message names it."""


@dataclass(frozen=True)
class PlanRow:
    """One frame of the plan. ``line`` is the row's line number in the file (the header is line 1);
    ``reason`` is None for a usable row, else why it is rejected."""

    line: int
    path: Path
    exposure: float = 1.0
    filter_name: str | None = None
    batch: str | None = None
    order: int = 0
    mount: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class StackPlan:
    """A read plan: its file, the usable rows (in ``order``) and the rejected ones."""

    path: Path
    rows: tuple[PlanRow, ...]
    rejected: tuple[PlanRow, ...]

    @property
    def paths(self) -> list[Path]:
        """The usable frames, in plan order."""
        return [r.path for r in self.rows]


def find_stack_plan(input_dir: Path) -> Path | None:
    """``input_dir/stack_plan.csv`` when it exists (any case of the name), else None."""
    exact = Path(input_dir) / PLAN_NAME
    if exact.is_file():
        return exact
    if Path(input_dir).is_dir():
        for entry in sorted(Path(input_dir).iterdir()):
            if entry.name.lower() == PLAN_NAME and entry.is_file():
                return entry
    return None


def load_stack_plan(csv_path: str | Path) -> StackPlan:
    """Read ``stack_plan.csv`` (module docstring for the columns).

    Raises
    ------
    StackPlanError
        The file cannot be read, is empty, or its header has no path column.
    """
    path = Path(csv_path).expanduser()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise StackPlanError(f"{path}: cannot read the stack plan ({exc})") from exc
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise StackPlanError(f"{path}: the stack plan is empty")
    reader = csv.reader(lines, dialect=_dialect(text))
    header = [h.strip().lower() for h in next(reader)]
    columns = {name: _column(header, keys) for name, keys in (
        ("path", _PATH_KEYS), ("exposure", _EXPOSURE_KEYS), ("filter", _FILTER_KEYS), ("batch", _BATCH_KEYS),
        ("order", _ORDER_KEYS), ("mount", _MOUNT_KEYS))}
    if columns["path"] is None:
        raise StackPlanError(f"{path}: no path column in the header {header} (expected one of {list(_PATH_KEYS)})")
    rows: list[PlanRow] = []
    rejected: list[PlanRow] = []
    for k, values in enumerate(reader):
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        row = _row(values, columns, line, k, path.parent)
        (rejected if row.reason else rows).append(row)
    for row in rejected:
        log.warning("stack_plan.csv line %d rejected: %s", row.line, row.reason)
    rows.sort(key=lambda r: (r.order, r.line))
    log.info("[GRID] stack plan %s: %d frame(s), %d row(s) rejected; columns %s", path, len(rows), len(rejected),
             ", ".join(f"{n}={header[i]}" for n, i in columns.items() if i is not None))
    return StackPlan(path, tuple(rows), tuple(rejected))


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def _column(header: Sequence[str], keys: Sequence[str]) -> int | None:
    for key in keys:
        if key in header:
            return header.index(key)
    return None


def _row(values: list[str], columns: dict, line: int, k: int, base: Path) -> PlanRow:
    def cell(name: str) -> str:
        i = columns[name]
        return values[i].strip() if i is not None and i < len(values) else ""

    raw = cell("path").strip("\"'")
    if not raw:
        return PlanRow(line, Path(), reason=f"line {line}: empty path")
    frame = resolve_plan_path(base, raw)
    problems = []
    if not frame.is_file():
        problems.append(f"file not found ({raw})")
    exposure = _number(cell("exposure"), 1.0)
    if exposure is None or exposure <= 0:
        problems.append(f"exposure {cell('exposure')!r} is not a positive number")
    order = _number(cell("order"), float(k))
    if order is None or order != int(order):
        problems.append(f"order {cell('order')!r} is not an integer")
    mount_text = cell("mount").lower()
    mount = _MOUNTS.get(mount_text) if mount_text else None
    if mount_text and mount is None:
        problems.append(f"mount {cell('mount')!r} is not EQ or ALTZ")
    reason = f"line {line}: " + "; ".join(problems) if problems else None
    return PlanRow(line, frame, exposure or 1.0, cell("filter") or None, cell("batch") or None,
                   int(order) if order is not None and order == int(order) else k, mount, reason)


def _number(text: str, default: float) -> float | None:
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def resolve_plan_path(base: Path, raw: str) -> Path:
    """The file a plan row names: absolute, or relative to ``base``; a Windows path (drive, UNC or backslashes)
    is tried under ``base`` by its tail after the drive, then by its name. The first existing candidate, else the
    first candidate."""
    candidates = [Path(raw) if Path(raw).is_absolute() else base / raw]
    if "\\" in raw or (len(raw) > 1 and raw[1] == ":"):
        win = PureWindowsPath(raw)
        tail = [p for p in win.parts if p != win.anchor]
        for start in range(len(tail)):
            candidates.append(base.joinpath(*tail[start:]))
    for cand in candidates:
        if cand.is_file():
            return cand.resolve()
    return candidates[0]
