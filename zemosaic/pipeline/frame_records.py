"""The run's frame-quality records: the user's ``frame_exclude`` list (applied before clustering, so a tile whose
frames it does not touch keeps its inputs, and its ``--resume`` validity), and, after Phase 3, every frame's
measures and decision in ``run_report.json`` (``input_files[].quality``) and in ``OUT/frames.csv``.
"""
from __future__ import annotations

import csv
import io
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from zemosaic.config import ConfigError, ZeMosaicConfig
from zemosaic.io.atomic import atomic_write_bytes
from zemosaic.quality.group import is_excluded, read_exclude_list, read_exclude_notes
from zemosaic.quality.measures import QUALITY_FIELDS

__all__ = ["without_excluded", "record_quality", "frames_csv_text", "CSV_COLUMNS"]

log = logging.getLogger(__name__)

CSV_COLUMNS = ("file", "date_obs", "tile_id") + QUALITY_FIELDS
"""The columns of ``frames.csv`` (and of ``zemosaic inspect --csv``)."""


def without_excluded(frames: Sequence[Any], cfg: ZeMosaicConfig, report) -> list:
    """The frames not named by ``frame_exclude`` (each excluded one is a rejected input with that reason).

    Raises
    ------
    ConfigError
        The list file cannot be read (the message names it).
    """
    if not cfg.frame_exclude:
        return list(frames)
    try:
        patterns = read_exclude_list(cfg.frame_exclude)
        notes = read_exclude_notes(cfg.frame_exclude)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"frame_exclude: cannot read {cfg.frame_exclude}: {exc}") from exc
    kept: list = []
    excluded: list = []
    for f in frames:
        (excluded if is_excluded(f.path, patterns) else kept).append(f)
    for f in excluded:
        note = next((notes[p] for p in patterns if p in notes and is_excluded(f.path, [p])), None)
        report.reject(f.path, "excluded by the user (frame_exclude list)" + (f": {note}" if note else ""),
                      "frame_exclude")
    report.frame_quality = {**(report.frame_quality or {}), "frame_exclude": str(cfg.frame_exclude),
                            "patterns": patterns, "excluded": [str(f.path) for f in excluded]}
    log.info("frame_exclude %s: %d pattern(s), %d frame(s) excluded", cfg.frame_exclude, len(patterns),
             len(excluded))
    return kept


def record_quality(report, output_dir: Path, frames: Sequence[Any],
                   records: Sequence[tuple[int, dict]] | None = None) -> Path | None:
    """Attach each tile's frame records to ``report.input_files`` and write ``OUT/frames.csv``; ``records``
    (``(tile_id, record)`` pairs: GRID and SDS, whose gate judges Phase 2's groups) replace the tiles' records."""
    dates = {str(f.path): getattr(f.info, "date_obs", None) for f in frames}
    rows = []
    by_path: dict[str, dict] = {}
    pairs = records if records is not None else [(t.tile_id, r) for t in report.tiles for r in t.frame_quality]
    for tile_id, record in pairs:
        record = {k: v for k, v in record.items() if k != "judged"}
        by_path[record["path"]] = record
        rows.append({"file": Path(record["path"]).name, "date_obs": dates.get(record["path"]),
                     "tile_id": tile_id, **record})
    for entry in report.input_files:
        if entry.get("path") in by_path:
            entry["quality"] = {k: v for k, v in by_path[entry["path"]].items() if k != "path"}
    if not rows:
        return None
    rows.sort(key=lambda r: (str(r["date_obs"]), r["file"]))
    path = atomic_write_bytes(output_dir / "frames.csv", frames_csv_text(rows).encode("utf-8"))
    counts = {d: sum(r["decision"] == d for r in rows) for d in ("kept", "rejected")}
    report.frame_quality = {**(report.frame_quality or {}), "frames_csv": str(path), **counts,
                            "partial": sum(r.get("masked_fraction", 0) > 0 for r in rows)}
    return path


def frames_csv_text(rows: Sequence[dict]) -> str:
    """CSV text of frame rows (columns :data:`CSV_COLUMNS`; missing values empty)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in CSV_COLUMNS})
    return buf.getvalue()
