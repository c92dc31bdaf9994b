"""Fixtures shared by the window's tests (pytest-qt, offscreen)."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def window(qtbot, tmp_path):
    """The main window, shown, with its settings in a file of this test's own (not the user's)."""
    # PySide6 is optional: the test modules skip themselves without it, before this fixture is ever used
    from PySide6.QtCore import QSettings

    from zemosaic.gui.main_window import MainWindow

    win = MainWindow(settings=QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    return win
