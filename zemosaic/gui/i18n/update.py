"""Bring the ``.ts`` sources up to date with the window's strings: ``python -m zemosaic.gui.i18n.update``.

Runs PySide6's ``lupdate`` over the GUI modules (``self.tr`` and ``QCoreApplication.translate`` literals), plus the
strings the window translates from tables (setting labels and explanations, choice names, sections, presets,
phase titles, frame-table words) and the modules' ``_tr("...")`` literals, written for it into a temporary module.
Existing translations are kept; new strings arrive unfinished, for Qt Linguist (``pyside6-linguist``).
"""
from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from zemosaic.gui.frame_list import SOLVE_STATUS
from zemosaic.gui.i18n import LANGUAGES, TS_DIR, ts_path
from zemosaic.gui.labels import CHOICE_LABELS, LABELS, PRESET_TITLES, SECTIONS, TR_CONTEXT

__all__ = ["table_strings", "main"]

_GUI = TS_DIR.parent
_TR_CONTEXTS = {"settings_panel.py": "Settings", "frames_view.py": "Frames", "progress_view.py": "PhaseProgress"}
_TR_LITERAL = re.compile(r'\b_tr\(\s*"((?:[^"\\]|\\.)*)"\s*\)')


def table_strings() -> list[tuple[str, str]]:
    """(context, English source) of every string the window translates from a table or a ``_tr`` literal."""
    out: list[tuple[str, str]] = [(TR_CONTEXT, title) for title, _, _ in SECTIONS]
    out += [(TR_CONTEXT, text) for pair in LABELS.values() for text in pair]
    out += [(TR_CONTEXT, text) for text in CHOICE_LABELS.values()]
    out += [(TR_CONTEXT, text) for text in PRESET_TITLES.values()]
    out += [("Frames", text) for text in SOLVE_STATUS.values()]
    out += [("Frames", text) for text in ("kept", "rejected", "excluded")]
    out += [("Frames", header) for _, header in _frame_columns()]
    out += [("PhaseProgress", text) for text in _phase_titles()]
    for name, context in _TR_CONTEXTS.items():
        source = (_GUI / name).read_text(encoding="utf-8")
        out += [(context, m.group(1).encode().decode("unicode_escape")) for m in _TR_LITERAL.finditer(source)]
    return list(dict.fromkeys(out))


def _frame_columns() -> tuple[tuple[str, str], ...]:
    source = (_GUI / "frames_view.py").read_text(encoding="utf-8")
    block = source[source.index("COLUMNS: tuple"):source.index("_DIGITS")]
    return tuple(re.findall(r'\("(\w+)", "([^"]+)"\)', block))


def _phase_titles() -> list[str]:
    source = (_GUI / "progress_view.py").read_text(encoding="utf-8")
    block = source[source.index("PHASE_TITLES = {"):source.index('"""The title of each phase')]
    return re.findall(r'"\w+": "([^"]+)"', block)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        tables = Path(tmp) / "window_tables.py"
        tables.write_text("from PySide6.QtCore import QCoreApplication\n" + "".join(
            f"QCoreApplication.translate({c!r}, {s!r})\n" for c, s in table_strings()), encoding="utf-8")
        sources = sorted(str(p) for p in _GUI.glob("*.py")) + [str(tables)]
        targets = [str(ts_path(code)) for code, _ in LANGUAGES if code not in ("", "en")]
        command = [str(Path(sys.executable).parent / "pyside6-lupdate"), "-no-obsolete", "-locations", "none",
                   *sources, "-ts", *targets]
        return subprocess.run(command, check=False).returncode


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
