"""Test helpers for run folders: copy a dataset's frames, read a run's report."""
from __future__ import annotations

import json
import shutil
from pathlib import Path


def copy_frames(src: Path, dst: Path) -> list[Path]:
    """Copy the ``*.fit`` frames of ``src`` into a new folder ``dst``; the copies, sorted by name."""
    dst.mkdir(parents=True)
    for path in sorted(src.glob("*.fit")):
        shutil.copy2(path, dst / path.name)
    return sorted(dst.glob("*.fit"))


def read_report(out: Path) -> dict:
    """The ``run_report.json`` of the output folder ``out``."""
    return json.loads((out / "run_report.json").read_text())
