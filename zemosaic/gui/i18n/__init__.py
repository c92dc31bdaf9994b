"""The window's translations: Qt ``.ts`` sources (``zemosaic_<lang>.ts``, English source strings) shipped in this
folder, compiled to ``.qm`` at first use with ``pyside6-lrelease`` (PySide6's wheel carries it) into a cache
folder, and recompiled when the source changes. Qt-free (the window loads the ``.qm`` with a QTranslator).

The language is the system locale's unless the ``ui/language`` setting (View > Language, or ``zemosaic gui
--lang``) names one; English is the source language and needs no file.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["LANGUAGES", "TS_DIR", "ts_path", "compiled_qm", "lrelease_command", "pick_language"]

log = logging.getLogger(__name__)

TS_DIR = Path(__file__).resolve().parent
LANGUAGES: tuple[tuple[str, str], ...] = (
    ("", "System language"), ("en", "English"), ("fr", "Français"), ("de", "Deutsch"), ("es", "Español"),
    ("nl", "Nederlands"), ("pl", "Polski"), ("is", "Íslenska"))
"""(code, name in its own language); code '' is the system locale."""


def ts_path(lang: str) -> Path:
    return TS_DIR / f"zemosaic_{lang}.ts"


def pick_language(setting: str, system_name: str) -> str:
    """The language to show: ``setting`` when it names one, else the system locale's (``fr_FR`` -> ``fr``)
    when a translation exists, else English."""
    for code in (setting, system_name.split("_")[0].split("-")[0].lower()):
        if code == "en" or (code and ts_path(code).is_file()):
            return code
    return "en"


def lrelease_command() -> list[str] | None:
    """The ``lrelease`` to run: PySide6's own (next to the package), else ``pyside6-lrelease`` or ``lrelease`` on
    PATH; None when there is none."""
    try:
        import PySide6  # noqa: PLC0415 (only to locate its tools)

        folder = Path(PySide6.__file__).parent
        for name in ("lrelease", "lrelease.exe"):
            if (folder / name).is_file():
                return [str(folder / name)]
    except ImportError:
        pass
    for name in ("pyside6-lrelease", "lrelease"):
        found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
        if found:
            return [found]
    return None


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "zemosaic" / "i18n"


def compiled_qm(lang: str, cache_dir: str | Path | None = None) -> Path | None:
    """The ``.qm`` of ``lang``, compiled from its ``.ts`` when missing or stale (named after the source's hash);
    None when there is no translation or no ``lrelease`` (then the window stays in English, one log line says
    why)."""
    source = ts_path(lang)
    if not source.is_file():
        return None
    digest = hashlib.sha1(source.read_bytes()).hexdigest()[:12]
    folder = Path(cache_dir) if cache_dir is not None else _cache_dir()
    target = folder / f"zemosaic_{lang}-{digest}.qm"
    if target.is_file():
        return target
    command = lrelease_command()
    if command is None:
        log.warning("no lrelease found (PySide6's): the window stays in English")
        return None
    folder.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.part.qm")
    done = subprocess.run(command + ["-silent", str(source), "-qm", str(partial)], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0 or not partial.is_file():
        log.warning("lrelease could not compile %s: %s", source.name, (done.stderr or done.stdout).strip()[-300:])
        partial.unlink(missing_ok=True)
        return None
    os.replace(partial, target)
    return target
