"""Compile ahead: the first run after installation fills numba's cache in a background process.

Every numba kernel of the pipeline is compiled on its first use and cached on disk (``cache=True``: in the
package's ``__pycache__`` folders, or numba's user cache folder when site-packages is read-only, or
``NUMBA_CACHE_DIR`` when set), so only the first run after installing (or upgrading) pays the compile, about
7 s of CPU on top of a 15 s demo. :func:`start`, called by ``zemosaic run`` and ``zemosaic demo`` before the
work begins, moves that cost off the run's path when the cache is cold: it starts ``python -m
zemosaic._numba_warmup``, a lower-priority child that rehearses the whole pipeline with the run's settings on a
thumbnail dataset (4 panels of 3 frames of 96 x 160 pixels, in a temporary folder), which compiles exactly the
kernels, with exactly the argument types, that the run will use, and caches them. The run meanwhile reads,
solves, aligns...; when it reaches a kernel the child has cached, numba loads it instead of compiling it (one
that is not cached yet is compiled by the run itself, as before: nothing waits for the child).

It only pays when a core is free: otherwise the child competes with the run (2 cores, one busy with other work:
the first demo took 7.6 and 10.5 s longer than the second with the child, 5.5 s without), so it starts only when
the CPUs this process may use exceed the 1-minute load average by 1.5 (:func:`free_cores`;
``ZEMOSAIC_NUMBA_WARMUP=1`` starts it anyway, ``=0`` never). It runs once per installation: a marker file in the
user's cache folder (``~/.cache/zemosaic/numba-warm/``, ``%LOCALAPPDATA%\\zemosaic\\Cache`` on Windows) records
that the kernels of this zemosaic (its files' sizes and times), numba and Python, with this ``NUMBA_CACHE_DIR``,
are cached; a successful run writes it too (:func:`mark_warm`). Nothing happens when the marker exists or when
that folder is not writable. The child is stopped when the run's process exits; it writes nothing outside
numba's cache, the marker and its temporary folder, and prints nothing.
"""
from __future__ import annotations

import atexit
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from zemosaic._numba_cache import can_create_in, user_cache_dir

__all__ = ["start", "mark_warm", "marker_path", "is_warm", "free_cores"]

_ENV_SWITCH = "ZEMOSAIC_NUMBA_WARMUP"
_MIN_FREE_CORES = 1.5  # the run's own thread and the child's
_CHILD: subprocess.Popen | None = None

# The rehearsal's own settings: a thumbnail dataset with header WCSs, nothing written outside its folder.
_REHEARSAL_OVERRIDES = {
    "use_existing_master_tiles_mode": False, "input_recursive": False, "wcs_source": "header",
    "plate_solver": "none", "wcs_cache_dir": "", "write_wcs_sidecars": False, "min_frames_per_tile": 1,
    "export_formats": [], "debug_tile_ids": [],
}


def start(settings: dict | None = None) -> bool:
    """Start the background rehearsal unless the cache is warm (or warming is off); True if it started.

    ``settings``: the run's configuration values (``dataclasses.asdict`` of the config); the rehearsal uses them
    so that it compiles the kernels the run will use (rejection, combine, normalisation...). Never raises.
    """
    global _CHILD
    try:
        switch = os.environ.get(_ENV_SWITCH, "auto").strip().lower()
        if _CHILD is not None or switch in {"0", "false", "no", "off"}:
            return False
        if switch not in {"1", "true", "yes", "on"} and free_cores() < _MIN_FREE_CORES:
            return False  # no core to spare: the child would only slow the run down
        marker = marker_path()
        if marker is None or marker.exists() or not can_create_in(marker.parent):
            return False
        payload = json.dumps({"settings": settings or {}}, default=str)
        kwargs: dict = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL,
                        "close_fds": True}
        if os.name == "nt":
            kwargs["creationflags"] = getattr(subprocess, "BELOW_NORMAL_PRIORITY_CLASS", 0)
        _CHILD = subprocess.Popen([sys.executable, "-m", "zemosaic._numba_warmup", payload], **kwargs)
        atexit.register(_stop_child)
        return True
    except Exception:  # noqa: BLE001 - compiling ahead is an optimisation: never break a run for it
        return False


def free_cores() -> float:
    """CPUs this process may use minus the 1-minute load average (the CPUs less one where there is no load
    average, as on Windows)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    try:
        return cpus - os.getloadavg()[0]
    except (AttributeError, OSError):
        return cpus - 1.0


def mark_warm() -> None:
    """Record that numba's cache holds this installation's kernels (after a successful run). Never raises."""
    try:
        marker = marker_path()
        if marker is None:
            return
        marker.parent.mkdir(parents=True, exist_ok=True)
        tmp = marker.with_name(f"{marker.name}.{os.getpid()}.tmp")
        tmp.write_text("numba kernels cached\n")
        os.replace(tmp, marker)
    except OSError:
        pass


def is_warm() -> bool:
    """True when the marker of this installation exists."""
    marker = marker_path()
    return marker is not None and marker.exists()


def marker_path() -> Path | None:
    """The marker file of this installation (its name is a hash of what makes numba's cache valid)."""
    try:
        root = Path(__file__).resolve().parent
        stamps = []
        for path in sorted(root.rglob("*.py")):
            st = path.stat()
            stamps.append(f"{path.relative_to(root).as_posix()}:{st.st_size}:{st.st_mtime_ns}")
        from importlib import metadata

        try:
            numba_version = metadata.version("numba")
        except metadata.PackageNotFoundError:
            numba_version = "?"
        key = "\n".join([str(root), sys.version, numba_version, os.environ.get("NUMBA_CACHE_DIR", ""), *stamps])
        digest = hashlib.sha256(key.encode()).hexdigest()[:20]
        return _user_cache_dir() / "numba-warm" / f"{digest}.done"
    except OSError:
        return None


def _user_cache_dir() -> Path:
    return user_cache_dir("zemosaic")


def _stop_child() -> None:
    child = _CHILD
    if child is not None and child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()


def _rehearse(settings: dict) -> None:
    """Run the pipeline with ``settings`` on a thumbnail dataset in a temporary folder."""
    import logging

    # fast start: the CLI imports this module at every command; the pipeline loads only in the rehearsal child
    from zemosaic import config as zemosaic_config
    from zemosaic.pipeline import run as pipeline_run
    from zemosaic.synthetic import generator as synthetic

    logging.disable(logging.CRITICAL)
    known = set(zemosaic_config.config_keys())
    values = {k: v for k, v in settings.items() if k in known}
    values.update((k, v) for k, v in _REHEARSAL_OVERRIDES.items() if k in known)
    cfg = zemosaic_config.resolve_config(values)
    spec = synthetic.SynthSpec(panels=(2, 2), overlap=0.3, frames_per_panel=3, width=96, height=160,
                               pixel_scale_arcsec=4.8, mount="altaz", rotation_drift_deg=25.0, seed=1)
    with tempfile.TemporaryDirectory(prefix="zemosaic_warmup_") as tmp:
        synthetic.generate_dataset(Path(tmp) / "input", spec)
        pipeline_run.run_mosaic(Path(tmp) / "input", Path(tmp) / "output", cfg)


def main(argv: list | None = None) -> int:
    """The child: lower its priority, rehearse, write the marker."""
    args = sys.argv[1:] if argv is None else argv
    payload = json.loads(args[0]) if args else {}
    # stopped by the run (SIGTERM): unwind, so that the temporary folder goes too
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(1))
    if hasattr(os, "nice"):
        try:
            os.nice(10)
        except OSError:
            pass
    try:
        _rehearse(payload.get("settings") or {})
    except BaseException:  # noqa: BLE001 - stopped (SIGTERM, Ctrl-C) or failed: the run compiles what is missing
        return 1
    mark_warm()
    return 0


if __name__ == "__main__":
    sys.exit(main())
