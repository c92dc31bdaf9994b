"""One run per output folder: a lock file holding the owner's pid, and the clean-up of what our runs leave.

:func:`output_folder_lock` creates ``OUT/.zemosaic.lock`` exclusively (``O_EXCL``) with the pid, host and start
time of the run and the start time of its process (as the system counts it); a second run on the same folder stops
with :class:`OutputFolderLockedError`. A lock whose pid no longer runs on this host (a run killed with ``kill -9``),
or runs but as another process started since (the pid was reused), is stale: it is taken over with a WARNING line.

:func:`remove_temporary_leftovers` deletes the temporary files a killed run may leave (frame caches, assembly
memmaps, ``.*.part`` files of atomic writes); :func:`remove_previous_outputs` (``--overwrite``) deletes the files
an earlier run of ours wrote and nothing it does not recognise as its own.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from zemosaic.pipeline import guard

__all__ = [
    "LOCK_NAME",
    "TOP_OUTPUTS",
    "OutputFolderLockedError",
    "output_folder_lock",
    "remove_temporary_leftovers",
    "remove_previous_outputs",
    "process_start",
    "foreign_entries",
]

log = logging.getLogger(__name__)

LOCK_NAME = ".zemosaic.lock"
_TOP_OUTPUTS = ("mosaic.fits", "mosaic_preview.png", "run_report.json", "zemosaic.log", "frames.csv")
TOP_OUTPUTS = _TOP_OUTPUTS  # the files a run writes at the top of OUT (checked against its inputs)
_TILE_FILE = re.compile(r"(master_tile_\d{3,}\.(fits|json)|mode_manifest\.json)$")  # + GRID/SDS manifest
_CACHE_DIR = re.compile(r"zemosaic_(raw|aligned|valid|frames)_\w+$")
_ACC_FILE = re.compile(r"zemosaic_acc_\w+\.f32$")
_PART_FILE = re.compile(r"\..+\.part$")


class OutputFolderLockedError(RuntimeError):
    """Another live run holds the output folder (the message names its pid and the lock file)."""


@contextlib.contextmanager
def output_folder_lock(output_dir: Path) -> Iterator[Path]:
    """Hold ``output_dir/.zemosaic.lock`` while the block runs; raise :class:`OutputFolderLockedError` when a live
    run holds it. A stale lock (its pid is gone) is replaced."""
    path = Path(output_dir) / LOCK_NAME
    _acquire(path)
    try:
        yield path
    finally:
        if _read_owner(path).get("pid") == os.getpid():
            path.unlink(missing_ok=True)


def _acquire(path: Path) -> None:
    owner_text = json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                             "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
                             "process_start": process_start(os.getpid())})
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            owner = _read_owner(path)
            if _owner_alive(owner):
                raise OutputFolderLockedError(
                    f"output folder {path.parent} is in use by another zemosaic run (pid {owner.get('pid')} on "
                    f"{owner.get('host')}, started {owner.get('started')}); if no run is active, delete {path}"
                ) from None
            log.warning("stale lock %s (pid %s %s): taken over", path, owner.get("pid"), _why_stale(owner))
            path.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(owner_text)
        return
    raise OutputFolderLockedError(f"cannot take the lock {path}: another run keeps creating it")


def _read_owner(path: Path) -> dict:
    try:
        owner = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # absent, unreadable or half-written: no owner we can name
        return {}
    return owner if isinstance(owner, dict) else {}


def _owner_alive(owner: dict) -> bool:
    pid = owner.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False  # a lock without a readable pid is a leftover
    if owner.get("host") != socket.gethostname():
        return True  # another machine's run (shared folder): we cannot tell, so we do not steal it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, owned by another user
    recorded = owner.get("process_start")
    return recorded is None or process_start(pid) in (None, recorded)  # unknown: the pid is taken as the owner


def _why_stale(owner: dict) -> str:
    pid = owner.get("pid")
    if isinstance(pid, int) and pid > 0 and owner.get("process_start") is not None:
        now = process_start(pid)
        if now is not None and now != owner["process_start"]:
            return "now belongs to another process, started after the run that wrote the lock"
    return "no longer runs"


def process_start(pid: int) -> str | None:
    """When process ``pid`` started, as an opaque text that differs between two processes that had the same pid
    (Linux: the boot id and the start time in clock ticks from ``/proc``; elsewhere psutil's creation time when
    psutil is installed); None when it cannot be told (no such process, no way to ask)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        return f"{boot}:{stat.rsplit(')', 1)[1].split()[19]}"
    except (OSError, IndexError):
        pass
    try:
        import psutil  # optional: macOS, Windows
    except ImportError:
        return None
    try:
        return f"{psutil.Process(pid).create_time():.3f}"
    except (psutil.Error, OSError):
        return None


def remove_temporary_leftovers(output_dir: Path, inputs: guard.RunInputs | None = None) -> list[Path]:
    """Delete the temporary files of our runs under ``output_dir`` (frame caches, assembly memmaps, partial
    files of atomic writes) and return them; a live run's own are not there (the folder is locked). An entry
    that is (or holds) one of ``inputs`` stays (:mod:`zemosaic.pipeline.guard`)."""
    removed = []
    for folder in (output_dir, output_dir / "master_tiles"):
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            if entry.is_dir() and _CACHE_DIR.match(entry.name):
                if guard.remove_tree(entry, inputs, "leftover of an earlier run"):
                    removed.append(entry)
            elif entry.is_file() and (_ACC_FILE.match(entry.name) or _PART_FILE.match(entry.name)):
                if guard.remove_file(entry, inputs, "leftover of an earlier run"):
                    removed.append(entry)
    if removed:
        log.info("removed %d temporary file(s) left by an earlier run: %s", len(removed),
                 ", ".join(p.name for p in removed))
    return removed


def remove_previous_outputs(output_dir: Path, inputs: guard.RunInputs | None = None) -> list[Path]:
    """``--overwrite``: delete the outputs an earlier run of ours wrote (mosaic, preview, report, log, master tiles
    and their manifests, temporary files); files we do not recognise stay, each named in one INFO line. The
    plate-solution cache (``wcs_cache``) stays, and so does every file that is one of ``inputs`` (the master tiles
    a run in existing-master-tiles mode reads from ``OUT/master_tiles``): it is read, not removed."""
    removed = remove_temporary_leftovers(output_dir, inputs)
    for name in _TOP_OUTPUTS:
        path = output_dir / name
        if path.is_file() and guard.remove_file(path, inputs, "--overwrite"):
            removed.append(path)
    tiles_dir = output_dir / "master_tiles"
    if tiles_dir.is_dir():
        for entry in tiles_dir.iterdir():
            if entry.is_file() and _TILE_FILE.match(entry.name) and guard.remove_file(entry, inputs, "--overwrite"):
                removed.append(entry)
        with contextlib.suppress(OSError):  # not empty: something not ours stays in it
            tiles_dir.rmdir()
    for entry in foreign_entries(output_dir):
        log.info("--overwrite: %s left alone (not a zemosaic output)", entry)
    log.info("--overwrite: removed %d file(s) of an earlier run in %s", len(removed), output_dir)
    return removed


def foreign_entries(output_dir: Path) -> list[Path]:
    """Entries of ``output_dir`` that are not outputs of ours (nor the lock, the plate-solution cache or the
    sidecar folder)."""
    ours = set(_TOP_OUTPUTS) | {LOCK_NAME, "master_tiles", "wcs_cache", "wcs"}
    return sorted(p for p in output_dir.iterdir() if p.name not in ours)
