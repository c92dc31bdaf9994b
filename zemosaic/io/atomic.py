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

__all__ = ["atomic_output", "atomic_write_bytes"]


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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; give the usual permissions
        os.replace(temp_name, path)
    except BaseException:  # any interruption, Ctrl-C included: drop the partial file, then re-raise
        Path(temp_name).unlink(missing_ok=True)
        raise


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
