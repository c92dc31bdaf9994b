"""Atomic file output: a file appears at its final path only once it is complete.

Every output of a run (FITS, PNG, JSON report, synthetic frames) is written through :func:`atomic_output`,
so an interrupted run never leaves a half-written file behind.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_output", "atomic_write_bytes", "os_error_text", "add_note"]


@contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open a binary file that appears at ``path`` only once it is complete.

    The content goes to a temp file in the same folder (created if missing), which is fsync'ed and renamed over
    ``path`` with ``os.replace`` when the ``with`` block ends normally; on any exception the temp file is removed
    and ``path`` is left as it was.  Used for every output (FITS, PNG, reports).

    Parameters
    ----------
    path : str or os.PathLike
        Final destination.

    Yields
    ------
    BinaryIO
        The open temp file.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise _naming(exc, path, "creating a file in its folder") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; give the usual permissions
        os.replace(temp_name, path)
    except OSError as exc:  # a write to an open handle names no file: name the output, and say what was done
        Path(temp_name).unlink(missing_ok=True)
        raise _naming(exc, path, "writing") from exc
    except BaseException:  # any interruption, Ctrl-C included: drop the partial file, then re-raise
        Path(temp_name).unlink(missing_ok=True)
        raise


def _naming(exc: OSError, path: Path, operation: str) -> OSError:
    """``exc`` when it names a file already, else the same error naming ``path`` and the operation."""
    if exc.filename is not None:
        return exc
    return OSError(exc.errno, f"{exc.strerror or exc} ({operation})", str(path))


def os_error_text(exc: OSError) -> str:
    """One line for an OS error: the file(s) it names, the system's reason, the notes added on its way up
    (``the file: No space left on device (writing)``); never an empty file name."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    files = [os.fsdecode(f) if isinstance(f, bytes) else str(f) for f in (exc.filename, exc.filename2)
             if f is not None]
    text = f"{' -> '.join(files)}: {reason}" if files else reason
    notes = [str(n) for n in getattr(exc, "__notes__", ())]
    return "; ".join([text, *notes])


def add_note(exc: BaseException, note: str) -> None:
    """Add ``note`` to ``exc`` (PEP 678 ``__notes__``, also on Python 3.10)."""
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    else:
        exc.__notes__ = [*getattr(exc, "__notes__", ()), note]  # type: ignore[attr-defined]


def atomic_write_bytes(path: str | os.PathLike, payload: bytes) -> Path:
    """Write ``payload`` to ``path`` atomically (see :func:`atomic_output`); return the path."""
    with atomic_output(path) as handle:
        handle.write(payload)
    return Path(path)



def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()
