"""The window's languages (pytest-qt, offscreen): the ``.ts`` sources are complete (French: every string; German,
Spanish, Dutch, Polish, Icelandic: all but the settings' one-line explanations), compile at first use, and a
French window shows no English string left; the language comes from the system locale or the setting."""
from __future__ import annotations

import html
import os
import re
import xml.etree.ElementTree as ET

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtGui import QAction  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QAbstractButton,
    QApplication,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QTabWidget,
)

from zemosaic.gui import i18n  # noqa: E402
from zemosaic.gui.app import set_language  # noqa: E402
from zemosaic.gui.i18n.update import table_strings  # noqa: E402
from zemosaic.gui.labels import LABELS  # noqa: E402
from zemosaic.gui.main_window import MainWindow  # noqa: E402

OTHERS = ("de", "es", "nl", "pl", "is")
EXPLANATIONS = {explanation for _, explanation in LABELS.values()}
# shown as they are in every language: names, units, file patterns, configuration values, log levels
TECHNICAL = {"", "ZeMosaic", "1:1", "FWHM (px)", "Auto", "Seestar Alt-Az", "JSON (*.json)", "R", "G", "B",
             "tiff16", "png16", "tiff32", "siril", "pixinsight", "astropy", "swarp", "fwhm", "elongation",
             "transparency", "sky", "stars", "DEBUG", "INFO", "WARNING", "ERROR"} | {name for _, name in
                                                                                     i18n.LANGUAGES[1:]}


def _messages(lang: str) -> list[tuple[str, str, str | None, bool]]:
    """(context, source, translation, finished) of every message of a .ts file."""
    out = []
    for context in ET.parse(i18n.ts_path(lang)).getroot().iter("context"):
        name = context.find("name").text
        for m in context.iter("message"):
            tr = m.find("translation")
            out.append((name, m.find("source").text, tr.text, tr.get("type") != "unfinished"))
    return out


def test_the_sources_are_complete_and_hold_the_placeholders():
    wanted = set(table_strings())
    for lang in ("fr",) + OTHERS:
        messages = _messages(lang)
        assert wanted <= {(c, s) for c, s, _, _ in messages}, lang  # the tables' strings are all there
        for context, source, text, finished in messages:
            if lang == "fr" or source not in EXPLANATIONS:
                assert finished and text, (lang, context, source)
            if finished:
                assert sorted(re.findall(r"%\d", source)) == sorted(re.findall(r"%\d", text)), (lang, source)
                assert ("&" in source) == ("&" in text), (lang, source)
    assert len(_messages("fr")) > 380


def test_a_translation_compiles_once_at_first_use(tmp_path):
    qm = i18n.compiled_qm("fr", tmp_path)
    assert qm is not None and qm.is_file() and qm.stat().st_size > 10_000
    stamp = qm.stat().st_mtime_ns
    assert i18n.compiled_qm("fr", tmp_path) == qm and qm.stat().st_mtime_ns == stamp  # reused
    assert i18n.compiled_qm("xx", tmp_path) is None


def test_the_language_is_the_setting_else_the_system_locale():
    assert i18n.pick_language("", "fr_FR") == "fr"
    assert i18n.pick_language("", "de-AT") == "de"
    assert i18n.pick_language("", "ja_JP") == "en"
    assert i18n.pick_language("pl", "fr_FR") == "pl"
    assert i18n.pick_language("en", "fr_FR") == "en"


def _texts(window: MainWindow, *, main_only: bool = False) -> dict[str, str]:
    """Every visible string of the window (text -> what shows it). ``main_only``: the main window, menus,
    groups, buttons and settings labels (no explanations, no list entries, no messages)."""
    texts: dict[str, str] = {}

    def add(text: str, where: str) -> None:
        plain = html.unescape(re.sub(r"<code>.*?</code>|<[^>]+>", "", text)).replace("&", "").strip()
        if plain:
            texts.setdefault(plain, where)

    for w in window.findChildren(QLabel):
        if main_only and (w.objectName().startswith("help_") or w.buddy() is None):
            continue
        add(w.text(), f"label {w.objectName()}")
    for w in window.findChildren(QAbstractButton):
        add(w.text(), "button")
    for w in window.findChildren(QGroupBox):
        add(w.title(), "group")
    for w in window.findChildren(QTabWidget):
        for i in range(w.count()):
            add(w.tabText(i), "tab")
    for a in window.findChildren(QAction):
        add(a.text(), "menu")
    add(window.windowTitle(), "title")
    if not main_only:
        for w in window.findChildren(QLineEdit):
            add(w.placeholderText(), "placeholder")
        for w in window.findChildren(QComboBox):
            for i in range(w.count()):
                add(w.itemText(i), "list entry")
        model = window.frames.model
        for c in range(model.columnCount()):
            add(str(model.headerData(c, Qt.Orientation.Horizontal)), "table header")
        add(window.statusBar().currentMessage(), "status bar")
        add(window.frames.status.text(), "frames status")
    return texts


def _window(qtbot, tmp_path, lang: str) -> MainWindow:
    set_language(QApplication.instance(), lang)
    win = MainWindow(settings=QSettings(str(tmp_path / f"{lang}.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    return win


def test_the_french_window_has_no_english_string_left(qtbot, tmp_path):
    try:
        english = _texts(_window(qtbot, tmp_path, "en"))
        french_window = _window(qtbot, tmp_path, "fr")
        french = _texts(french_window)
    finally:
        set_language(QApplication.instance(), "en")
    same_in_french = {s for _, s, t, _ in _messages("fr") if s == t}  # e.g. "Position", "Additive"
    left = {text: where for text, where in french.items()
            if text in english and text not in TECHNICAL | same_in_french}
    assert not left, left
    assert len(french) > 300 and french_window.run_button.text() == "Lancer"
    assert french_window.settings_panel.sections["Input"].title() == "Entrée"


@pytest.mark.parametrize("lang", OTHERS)
def test_the_main_window_menus_groups_buttons_and_labels_are_translated(qtbot, tmp_path, lang):
    try:
        english = _texts(_window(qtbot, tmp_path, "en"), main_only=True)
        other = _texts(_window(qtbot, tmp_path, lang), main_only=True)
    finally:
        set_language(QApplication.instance(), "en")
    same = {s for _, s, t, _ in _messages(lang) if s == t}
    left = {text: where for text, where in other.items() if text in english and text not in TECHNICAL | same}
    assert not left, (lang, left)
    assert len(other) > 150


def test_the_language_menu_keeps_the_choice(qtbot, tmp_path):
    win = _window(qtbot, tmp_path, "en")
    french = next(a for a in win.language_menu.actions() if a.text() == "Français")
    french.trigger()
    assert win.qsettings.value("ui/language") == "fr" and french.isChecked()
    assert sum(a.isChecked() for a in win.language_menu.actions()) == 1
