"""Cold start: the numba cache folder (zemosaic/_numba_cache.py) and the compile-ahead rehearsal
(zemosaic/_numba_warmup.py). ``bench/bench_cold_start.py`` measures the first run against the second."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from zemosaic import _numba_cache, _numba_warmup
from zemosaic import cli as zemosaic_cli

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def user_cache(tmp_path, monkeypatch):
    """A private user cache folder (the warm-up marker goes there), warm-up switched on."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "cache"))
    monkeypatch.setenv("ZEMOSAIC_NUMBA_WARMUP", "auto")
    monkeypatch.delenv("ZEMOSAIC_NUMBA_WARMUP")
    monkeypatch.setattr(_numba_warmup, "_CHILD", None)
    return tmp_path / "cache"


# ------------------------------------------------------------------------------------- cache folder

def test_cache_dir_left_to_the_user_and_to_numba(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    assert _numba_cache.ensure_cache_dir() is None
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "mine")
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    assert _numba_cache.ensure_cache_dir() is None  # this checkout is writable: numba caches beside the sources
    assert "NUMBA_CACHE_DIR" not in os.environ


def test_cache_dir_when_nothing_is_writable(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", "")  # recorded, so that the value set below is undone
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    monkeypatch.setattr(_numba_cache, "_writable", lambda folder: False)
    monkeypatch.setattr(_numba_cache, "can_create_in", lambda folder: False)
    monkeypatch.setattr(_numba_cache.tempfile, "gettempdir", lambda: str(tmp_path))
    import numba.core.config as numba_config

    monkeypatch.setattr(numba_config, "CACHE_DIR", numba_config.CACHE_DIR)
    folder = _numba_cache.ensure_cache_dir()
    assert folder is not None and Path(folder).parent == tmp_path and Path(folder).is_dir()
    assert os.environ["NUMBA_CACHE_DIR"] == folder and numba_config.CACHE_DIR == folder


def test_kernels_cached_before_a_shared_kernel_module_was_edited_are_dropped(tmp_path):
    """numba checks a cached kernel against its own file only. The package's kernels cached before the newest edit
    of a shared kernel module (the medians, the sorting network: compiled into their callers) are deleted, index and
    data; newer caches, the bytecode and the sources stay."""
    package = tmp_path / "zemosaic"
    caches = [package / "__pycache__", package / "stack" / "__pycache__"]
    for folder in caches:
        folder.mkdir(parents=True)
    old = [caches[0] / "background._nb_fit_channel-10.py311.nbi",
           caches[0] / "background._nb_fit_channel-10.py311.1.nbc", caches[1] / "kernels.noise_from_rows-20.py311.nbi"]
    kept = [caches[1] / "kernels.prepare-30.py311.nbi", caches[0] / "background.cpython-311.pyc"]
    for path in old + kept:
        path.write_bytes(b"x")
    for name in _numba_cache.SHARED_KERNEL_MODULES:
        (package / name).write_text("# shared\n")
    os.utime(package / _numba_cache.SHARED_KERNEL_MODULES[0], (1000.0, 1000.0))   # one edited long ago
    os.utime(package / _numba_cache.SHARED_KERNEL_MODULES[1], (2000.0, 2000.0))   # the newest edit
    for path in old + [kept[1]]:
        os.utime(path, (1500.0, 1500.0))                                          # cached between the two edits
    os.utime(kept[0], (2500.0, 2500.0))                                           # cached after the newest
    assert _numba_cache.drop_stale_kernels(package) == 3
    assert not any(path.exists() for path in old) and all(path.exists() for path in kept)
    assert _numba_cache.drop_stale_kernels(package) == 0
    assert _numba_cache.drop_stale_kernels(tmp_path / "elsewhere") == 0                # no shared module: nothing


def test_an_edit_of_a_shared_kernel_module_reaches_its_callers_cached_kernels(tmp_path):
    """What the drop is for, in a package of two files like ours: a kernel calling another module's compiled
    function, both cached; the callee is edited; a new process sees the new callee through the caller."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text(
        f"import sys\nsys.path.insert(0, {str(REPO)!r})\nfrom zemosaic import _numba_cache\nfrom pathlib import Path\n"
        "_numba_cache.SHARED_KERNEL_MODULES = ('_selection.py',)\n"
        "_numba_cache.drop_stale_kernels(Path(__file__).parent)\n")
    (package / "_selection.py").write_text("from numba import njit\n@njit(cache=True)\ndef f(x):\n    return x + 1\n")
    (package / "caller.py").write_text("from numba import njit\nfrom pkg._selection import f\n"
                                       "@njit(cache=True)\ndef g(x):\n    return f(x) * 10\n")
    code = "import pkg.caller as c; print(c.g(1))"
    run = [sys.executable, "-c", code]
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    env.pop("NUMBA_CACHE_DIR", None)
    assert subprocess.run(run, capture_output=True, text=True, check=True, env=env).stdout.split() == ["20"]
    assert list((package / "__pycache__").glob("caller.g-*.nbi"))                 # g is cached
    source = package / "_selection.py"
    source.write_text(source.read_text().replace("x + 1", "x + 2"))
    stamp = max(p.stat().st_mtime for p in (package / "__pycache__").iterdir()) + 1.0
    os.utime(source, (stamp, stamp))                                              # edited after the caches
    assert subprocess.run(run, capture_output=True, text=True, check=True, env=env).stdout.split() == ["30"]


def test_import_with_read_only_package_and_home(tmp_path):
    """A read-only install whose user has no writable home still imports (numba would raise "no locator")."""
    code = ("import os, zemosaic._numba_cache as c\n"
            "c._writable = lambda folder: False\n"
            "c.can_create_in = lambda folder: False\n"
            "print(c.ensure_cache_dir())\n"
            "import zemosaic.stack.kernels\n"
            "print(os.environ['NUMBA_CACHE_DIR'])\n")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(PYTHONPATH=str(REPO), TMPDIR=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    first, second = proc.stdout.split()
    assert first == second and Path(first).parent == tmp_path


# --------------------------------------------------------------------------------------- warm-up

def test_free_cores():
    assert _numba_warmup.free_cores() <= (os.cpu_count() or 1)


def test_marker_follows_what_makes_the_cache_valid(user_cache, monkeypatch):
    marker = _numba_warmup.marker_path()
    assert marker is not None and marker.parent == user_cache / "zemosaic" / "numba-warm"
    assert _numba_warmup.marker_path() == marker
    monkeypatch.setenv("NUMBA_CACHE_DIR", "/somewhere/else")
    assert _numba_warmup.marker_path() != marker
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    assert not _numba_warmup.is_warm()
    _numba_warmup.mark_warm()
    assert _numba_warmup.is_warm() and marker.exists()


def test_start_only_when_cold_and_allowed(user_cache, monkeypatch):
    launched = []

    class FakePopen:
        def __init__(self, cmd, **kwargs):
            launched.append((cmd, kwargs))

        def poll(self):
            return 0

    monkeypatch.setattr(_numba_warmup.subprocess, "Popen", FakePopen)
    monkeypatch.setattr(_numba_warmup, "free_cores", lambda: 0.3)  # busy machine
    assert not _numba_warmup.start({}) and not launched
    monkeypatch.setenv("ZEMOSAIC_NUMBA_WARMUP", "1")  # forced
    assert _numba_warmup.start({"stack_rejection_algorithm": "kappa_sigma"})
    (cmd, kwargs), = launched
    assert cmd[:3] == [sys.executable, "-m", "zemosaic._numba_warmup"]
    assert json.loads(cmd[3])["settings"] == {"stack_rejection_algorithm": "kappa_sigma"}
    assert kwargs["stdout"] == subprocess.DEVNULL and kwargs["stderr"] == subprocess.DEVNULL
    assert not _numba_warmup.start({})  # one child per process
    monkeypatch.setattr(_numba_warmup, "_CHILD", None)
    monkeypatch.setenv("ZEMOSAIC_NUMBA_WARMUP", "0")
    assert not _numba_warmup.start({}) and len(launched) == 1  # off
    monkeypatch.delenv("ZEMOSAIC_NUMBA_WARMUP")
    monkeypatch.setattr(_numba_warmup, "free_cores", lambda: 2.0)  # idle machine: automatic
    assert _numba_warmup.start({}) and len(launched) == 2
    monkeypatch.setattr(_numba_warmup, "_CHILD", None)
    _numba_warmup.mark_warm()
    assert not _numba_warmup.start({}) and len(launched) == 2  # warm: nothing to do


def test_cli_run_starts_the_warmup(user_cache, monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(_numba_warmup, "start", lambda settings=None: calls.append(settings) or False)
    (tmp_path / "in").mkdir()
    zemosaic_cli.main(["run", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--set",
                       "stack_final_combine=median"])
    assert len(calls) == 1 and calls[0]["stack_final_combine"] == "median"


def test_rehearsal_runs_and_marks_warm(user_cache):
    """The child itself: the thumbnail pipeline runs with the given settings and writes the marker."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(user_cache)}
    payload = json.dumps({"settings": {"stack_rejection_algorithm": "kappa_sigma", "no_such_key": 1}})
    proc = subprocess.run([sys.executable, "-m", "zemosaic._numba_warmup", payload], env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""
    assert _numba_warmup.is_warm()
