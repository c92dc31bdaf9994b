"""The desktop GUI (PySide6, the ``gui`` extra): a mosaic run from folder to finished picture.

The window is built on the public API only: settings come from the configuration registry
(:mod:`zemosaic.config`), the run happens in a child process (:mod:`zemosaic.gui.worker`) that sends typed
events (progress, log records, master tiles written, the result) as JSON lines (:mod:`zemosaic.gui.protocol`),
and Cancel stops it the way SIGTERM stops ``zemosaic run`` (caches removed, report ``interrupted``).

This module and the Qt-free helpers (``protocol``, ``worker``, ``folders``, ``thumbnails``) never import PySide6,
so ``zemosaic`` itself does not; the Qt modules (``app``, ``main_window``, ``settings_panel``,
``run_controller``, ``image_views``, ``log_view``) are imported only when a window opens.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["add_gui_arguments", "main", "run_gui"]


def add_gui_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``zemosaic gui`` and ``zemosaic-gui``."""
    parser.add_argument("--input", type=Path, default=None, help="input folder to show in the window")
    parser.add_argument("--output", type=Path, default=None, help="output folder to show in the window")
    parser.add_argument("--config", type=Path, default=None, metavar="FILE.json",
                        help="load these configuration keys into the settings")
    parser.add_argument("--demo", action="store_true",
                        help="generate the built-in demo dataset (in --demo-dir) and run it in the window")
    parser.add_argument("--demo-dir", type=Path, default=None,
                        help="folder for --demo (default: a new temporary folder)")
    parser.add_argument("--screenshot", type=Path, default=None, metavar="FILE.png",
                        help="render the window to FILE.png and quit (after the demo run with --demo)")
    parser.add_argument("--dark", action="store_true", help="use a dark palette (View > Dark theme keeps it)")
    parser.add_argument("--lang", default=None, metavar="CODE",
                        help="language of the window: en, fr, de, es, nl, pl or is (default: the View > Language "
                             "setting, else the system locale)")


def run_gui(args: argparse.Namespace) -> int:
    """Open the window with the parsed options; returns the exit code. Raises ImportError naming the extra
    when PySide6 is not installed."""
    try:
        import PySide6  # noqa: F401  (checked here so the message names the extra)
    except ImportError as exc:
        raise ImportError("the desktop GUI needs PySide6: pip install \"zemosaic[gui]\"") from exc
    from zemosaic.gui.app import run_app  # PySide6: imported only when the window opens

    return run_app(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``zemosaic-gui`` console command."""
    parser = argparse.ArgumentParser(prog="zemosaic-gui", description="ZeMosaic desktop window.")
    add_gui_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run_gui(args)
    except ImportError as exc:
        print(f"zemosaic-gui: error: {exc}", file=sys.stderr)
        return 2
