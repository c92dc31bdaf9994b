"""Nothing a run reads is removed or rewritten by it: the run's inputs by identity, checked before every removal.

:func:`run_inputs` records, once at the start of a run, the files the run may read (every regular file of the input
folder, and of its subfolders with ``recursive``) and the folders they sit in, by identity: device and inode numbers
with links followed, so that a symbolic link, a hard link or a bind mount that reaches an input is recognised
whatever its path. :func:`remove_file` and :func:`remove_tree` (used by ``--overwrite``, the clean-up of a killed
run's leftovers, a resumed run's stale tiles) leave such an entry where it is, with one INFO line saying why.
:func:`check_writes` refuses, before anything is written or removed, a run whose outputs would be written over one
of its inputs (the master-tile folder of a tiles run holding its input frames; the run then also never removes that
folder with ``keep_master_tiles=false``). A run in existing-master-tiles mode on ``OUT/master_tiles`` reads its
tiles there and writes beside them: with ``--overwrite`` the tiles stay, the earlier mosaic goes.
"""
from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RunInputs", "InputOverlapError", "run_inputs", "check_writes", "remove_file", "remove_tree"]

log = logging.getLogger(__name__)

_Identity = tuple[int, int]


class InputOverlapError(ValueError):
    """The run would write over one of its own inputs (the message names the file or folder and the way out)."""


@dataclass(frozen=True)
class RunInputs:
    """The files and folders a run reads, by (device, inode): see :func:`run_inputs`."""

    folder: Path
    files: frozenset[_Identity]
    folders: frozenset[_Identity]

    def holds(self, path: Path) -> bool:
        """True when ``path`` (links not followed for the entry itself, as a removal would not follow them) is an
        input file or an input folder."""
        ident = _identity(path, follow=False)
        return ident is not None and (ident in self.files or ident in self.folders)

    def inside(self, path: Path) -> Path | None:
        """The first input (file or folder) found at or under ``path``, or None: removing the tree ``path`` would
        remove it."""
        if self.holds(path):
            return path
        if not path.is_dir() or path.is_symlink():
            return None
        for root, dirs, names in os.walk(path):
            for name in dirs + names:
                entry = Path(root) / name
                if self.holds(entry):
                    return entry
        return None


def _identity(path: Path, *, follow: bool) -> _Identity | None:
    try:
        st = os.stat(path, follow_symlinks=follow)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def run_inputs(input_dir: str | os.PathLike, *, recursive: bool = False) -> RunInputs:
    """The inputs of a run on ``input_dir``: its regular files (links followed) and the folder itself, with its
    subfolders when ``recursive`` (the scan reads them then). Entries that cannot be read are skipped: the scan
    reports them, and what cannot be stat-ed cannot be matched either."""
    folder = Path(input_dir)
    files: set[_Identity] = set()
    folders: set[_Identity] = set()
    pending = [folder]
    while pending:
        current = pending.pop()
        ident = _identity(current, follow=True)
        if ident is None or ident in folders:
            continue
        folders.add(ident)
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir():
                    if recursive:
                        pending.append(Path(entry.path))
                elif entry.is_file():
                    st = entry.stat()
                    files.add((st.st_dev, st.st_ino))
            except OSError:
                continue
    return RunInputs(folder, frozenset(files), frozenset(folders))


def check_writes(inputs: RunInputs, written_dirs: list[Path], written_files: list[Path]) -> None:
    """Raise :class:`InputOverlapError` when the run would write into one of its inputs: a folder it writes
    (``written_dirs``: tiles in ``OUT/master_tiles``) that is an input folder or holds an input, or a file it writes
    (``written_files``) that is an input."""
    for folder in written_dirs:
        found = inputs.inside(folder)
        if found is not None:
            what = "is the input folder" if found == folder else f"holds the input {found}"
            raise InputOverlapError(
                f"{folder} {what}, and this run writes its master tiles there: choose another output folder (or "
                "--mode existing-master-tiles to assemble tiles as they are)")
    for path in written_files:
        if inputs.holds(path):
            raise InputOverlapError(f"{path} is an input of this run and the run writes it: choose another output "
                                    "folder")


def remove_file(path: Path, inputs: RunInputs | None, why: str) -> bool:
    """Unlink ``path`` unless it is one of the run's inputs (then log it and keep it); True when removed."""
    if inputs is not None and inputs.holds(path):
        log.info("%s: %s kept (an input of this run)", why, path)
        return False
    path.unlink(missing_ok=True)
    return True


def remove_tree(path: Path, inputs: RunInputs | None, why: str) -> bool:
    """Remove the folder ``path`` and what it holds, unless an input of the run is in it (then log it, keep the
    whole folder); True when removed."""
    found = inputs.inside(path) if inputs is not None else None
    if found is not None:
        log.info("%s: %s kept (it holds %s, an input of this run)", why, path, found)
        return False
    shutil.rmtree(path)
    return True
