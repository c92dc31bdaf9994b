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
