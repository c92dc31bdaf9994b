"""The application: QApplication, palette, translations, and the ``--demo`` / ``--screenshot`` modes."""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEvent, QLibraryInfo, QLocale, QSettings, QTimer, QTranslator
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from zemosaic.gui import i18n
from zemosaic.gui.main_window import MainWindow
from zemosaic.synthetic.demo import demo_spec
from zemosaic.synthetic.generator import generate_dataset

__all__ = ["application", "set_language", "dark_palette", "light_palette", "run_app", "grab_to_png"]



def application(*, dark: bool = False, language: str = "") -> QApplication:
    """The QApplication (created once): Fusion style, a light or dark palette of readable contrast, and the
    translation of ``language`` (a code of :data:`zemosaic.gui.i18n.LANGUAGES`; '' is the system locale's), with
    Qt's own for its dialogs. Calling it again changes the language (the translators are replaced)."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("ZeMosaic")
    app.setOrganizationName("ZeMosaic")
    app.setStyle("Fusion")
    app.setPalette(dark_palette() if dark else light_palette())
    set_language(app, language)
    return app


def set_language(app: QApplication, language: str) -> str:
    """Install the translation of ``language`` ('' : the system locale's); returns the code shown ('en' when
    there is no translation). Widgets made afterwards are translated."""
    for old in app.findChildren(QTranslator):
        app.removeTranslator(old)
        old.deleteLater()
    code = i18n.pick_language(language, QLocale.system().name())
    if code == "en":
        return code
    qm = i18n.compiled_qm(code)
    translator = QTranslator(app)
    if qm is not None and translator.load(str(qm)):
        app.installTranslator(translator)
    qt_own = QTranslator(app)
    if qt_own.load(QLocale(code), "qtbase", "_", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt_own)
    return code


def _palette(colours: dict) -> QPalette:
    p = QPalette()
    for role, colour in colours.items():
        p.setColor(role, QColor(*colour))
    return p


_R = QPalette.ColorRole


def light_palette() -> QPalette:
    """A light palette whose every text colour keeps a 4.5:1 contrast on its background (WCAG AA)."""
    p = _palette({_R.Window: (239, 239, 239), _R.WindowText: (0, 0, 0), _R.Base: (255, 255, 255),
                  _R.AlternateBase: (247, 247, 247), _R.Text: (0, 0, 0), _R.Button: (239, 239, 239),
                  _R.ButtonText: (0, 0, 0), _R.ToolTipBase: (255, 255, 220), _R.ToolTipText: (0, 0, 0),
                  _R.Highlight: (38, 112, 196), _R.HighlightedText: (255, 255, 255), _R.Link: (0, 80, 170),
                  _R.PlaceholderText: (110, 110, 110)})
    for role in (_R.WindowText, _R.Text, _R.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 120, 120))
    return p


def dark_palette() -> QPalette:
    """A dark palette whose every text colour keeps a 4.5:1 contrast on its background (WCAG AA)."""
    p = _palette({_R.Window: (45, 45, 48), _R.WindowText: (225, 225, 225), _R.Base: (30, 30, 32),
                  _R.AlternateBase: (45, 45, 48), _R.Text: (225, 225, 225), _R.Button: (45, 45, 48),
                  _R.ButtonText: (225, 225, 225), _R.ToolTipBase: (30, 30, 32), _R.ToolTipText: (225, 225, 225),
                  _R.Highlight: (30, 100, 180), _R.HighlightedText: (255, 255, 255), _R.Link: (110, 170, 255),
                  _R.PlaceholderText: (150, 150, 150)})
    for role in (_R.WindowText, _R.Text, _R.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(150, 150, 150))
    return p


def grab_to_png(window: MainWindow, path: str | Path) -> Path:
    """Render the window to a PNG file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path), "PNG"):
        raise OSError(f"cannot write the screenshot {path}")
    return path


def run_app(args: argparse.Namespace) -> int:
    """Open the window for ``zemosaic gui`` (options in :func:`zemosaic.gui.add_gui_arguments`)."""
    stored = QSettings("ZeMosaic", "ZeMosaic")
    dark = bool(args.dark) or str(stored.value("ui/dark", "false")).lower() == "true"
    language = args.lang if getattr(args, "lang", None) is not None else str(stored.value("ui/language", "") or "")
    app = application(dark=dark, language=language)
    window = MainWindow()
    if args.config is not None:
        window.load_settings(args.config)
    window.set_folders(args.input, args.output)
    window.show()
    if args.demo:
        _start_demo(window, args.demo_dir)
    if args.screenshot is not None:
        shot = Path(args.screenshot)
        if args.demo:
            window.runFinished.connect(lambda _status: QTimer.singleShot(500, lambda: _shoot_and_quit(window, shot)))
        else:
            QTimer.singleShot(500, lambda: _shoot_and_quit(window, shot))
    code = app.exec()
    window.close()  # saves the window state; then the window goes before the application
    window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return code


def _start_demo(window: MainWindow, demo_dir: Path | None) -> None:
    root = Path(demo_dir) if demo_dir is not None else Path(tempfile.mkdtemp(prefix="zemosaic_gui_demo_"))
    input_dir, output_dir = root / "input", root / "output"
    if not input_dir.is_dir() or not any(input_dir.iterdir()):
        text = QApplication.translate("MainWindow", "Generating the demo dataset in %1...")
        window.statusBar().showMessage(text.replace("%1", str(input_dir)))
        QApplication.processEvents()
        generate_dataset(input_dir, demo_spec(1))
    window.set_folders(input_dir, output_dir, existing_output="overwrite")
    window.start_run()


def _shoot_and_quit(window: MainWindow, path: Path) -> None:
    grab_to_png(window, path)
    print(f"screenshot: {path}")
    QApplication.quit()
