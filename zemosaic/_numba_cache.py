"""Where numba caches the compiled kernels: a place that works even when site-packages is read-only.

Every kernel of the package is ``@njit(cache=True)``. numba picks the cache folder when the kernel is *defined*
(at import): ``NUMBA_CACHE_DIR`` when set, else the ``__pycache__`` folder beside the source when writable (a
virtual environment, an editable install), else its user folder (``$XDG_CACHE_HOME/numba``, ``~/.cache/numba``)
when writable (a read-only system install); with none of them writable it raises ``RuntimeError: cannot cache
function ...: no locator available`` and the import fails. :func:`ensure_cache_dir`, run by
``zemosaic/__init__.py`` before any kernel module is imported, covers that last case only: it points
``NUMBA_CACHE_DIR`` at ``<temp dir>/zemosaic-numba-<uid>``. A ``NUMBA_CACHE_DIR`` the user set is left alone,
and so are numba's own choices when one of them works (they need no help, and moving the cache would make the
first run after upgrading zemosaic compile everything again for nothing).

numba's cache checks a kernel against its own source file only: a kernel that calls a compiled function of another
module (the shared ones of :data:`SHARED_KERNEL_MODULES`: exact medians, the sorting network) keeps the machine code
it was cached with after that other module is edited. :func:`drop_stale_kernels`, run by ``zemosaic/__init__.py``
too, deletes the package's cached kernels (``__pycache__/*.nbi`` and ``*.nbc``) older than the newest of those
modules, so an edit there is compiled in. An installed package never meets it (its caches are written after its
files); it is for a checkout being worked on.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

__all__ = ["ensure_cache_dir", "drop_stale_kernels", "SHARED_KERNEL_MODULES"]

#: The package's modules whose compiled functions other modules' kernels call (and compile into their own code).
SHARED_KERNEL_MODULES = ("_selection.py", "_sorting_network.py")


def ensure_cache_dir() -> str | None:
    """Set ``NUMBA_CACHE_DIR`` to a temporary folder when numba would find no writable cache folder for this
    package; returns the folder set, or None (nothing to do). Never raises."""
    try:
        if os.environ.get("NUMBA_CACHE_DIR"):
            return None
        package = Path(__file__).resolve().parent
        if _writable(package / "__pycache__") or can_create_in(_numba_user_cache()):
            return None
        uid = os.getuid() if hasattr(os, "getuid") else os.getpid()
        folder = Path(tempfile.gettempdir()) / f"zemosaic-numba-{uid}"
        folder.mkdir(mode=0o700, exist_ok=True)
        os.environ["NUMBA_CACHE_DIR"] = str(folder)
        config = sys.modules.get("numba.core.config")
        if config is not None:  # numba already imported: its config read the environment then
            setattr(config, "CACHE_DIR", str(folder))  # noqa: B010 (a module attribute mypy cannot see)
        return str(folder)
    except Exception:  # noqa: BLE001 - never break an import for a cache location
        return None


def drop_stale_kernels(package: Path | None = None) -> int:
    """Delete the cached kernels (numba's ``.nbi`` index and ``.nbc`` data files in the ``__pycache__`` folders of
    ``package``, by default this one) that are older than the newest of :data:`SHARED_KERNEL_MODULES`; returns how
    many files went. Never raises (a file another process removed first, a read-only folder: left alone)."""
    try:
        package = Path(__file__).resolve().parent if package is None else package
        newest = max((package / name).stat().st_mtime for name in SHARED_KERNEL_MODULES
                     if (package / name).exists())
    except (OSError, ValueError):  # no shared module here
        return 0
    dropped = 0
    for cache in package.rglob("__pycache__"):
        try:
            entries = list(os.scandir(cache))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.name.endswith((".nbi", ".nbc")) and entry.stat().st_mtime < newest:
                    os.unlink(entry.path)
                    dropped += 1
            except OSError:
                continue
    return dropped


def _numba_user_cache() -> Path:
    """numba's user-wide cache folder (``numba.misc.appdirs.user_cache_dir("numba")``), without importing numba."""
    return user_cache_dir("numba")


def user_cache_dir(app: str) -> Path:
    """The platform's per-user cache folder of application ``app`` (the layout numba's appdirs uses)."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / app / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / app
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / app


def can_create_in(folder: Path) -> bool:
    """Make ``folder`` and a file in it, as numba will (``os.access`` is no proof for root: it says yes to
    ``/proc``); only run when the package's own folder is read-only."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _writable(folder: Path) -> bool:
    """A file could be created in ``folder`` (or the folders to it made): ``os.access`` on the nearest existing
    folder, which also says no on a read-only file system; nothing is written."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            return False
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK | os.X_OK)
