"""Parallel and distributed master tiles (issue 19, items 1-2): worker processes and a dask cluster build the tiles
of a serial run bit for bit, their log lines and progress come back tagged with the tile, Ctrl-C / SIGTERM / kill -9
stop the workers with the run, and --resume works across engines. Timings are the benchmark's
(bench/bench_parallel_tiles.py), never asserted here."""
from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from astropy.io import fits

from run_folders import read_report
from zemosaic import cli
from zemosaic.config import ConfigError, resolve_config
from zemosaic.pipeline import tile_plan, tile_task
from zemosaic.pipeline.master_tile import ScannedFrame
from zemosaic.pipeline.run import run_mosaic

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class _FrameInfoLike:
    """What a task needs of a frame's scan information (a FrameInfo without a file behind it)."""

    shape: tuple
    n_channels: int
    wcs: object


def _hdus(path: Path) -> list[tuple]:
    with fits.open(path) as hdul:
        return [(h.name, None if h.data is None else (h.data.dtype.str, h.data.shape, h.data.tobytes()),
                 [(c.keyword, c.value, c.comment) for c in h.header.cards if c.keyword != "DATE"]) for h in hdul]


def _assert_same_outputs(reference: Path, out: Path) -> None:
    """mosaic.fits and every master tile: every HDU's data bit for bit, the headers minus DATE; the run report's
    tiles (minus timings and the output folder) and rejected inputs."""
    names = sorted(str(p.relative_to(reference)) for p in reference.rglob("*.fits"))
    assert names == sorted(str(p.relative_to(out)) for p in out.rglob("*.fits"))
    assert "mosaic.fits" in names and len(names) == 5
    for name in names:
        assert _hdus(out / name) == _hdus(reference / name), name

    def tiles(folder: Path) -> list[dict]:
        report = read_report(folder)
        assert report["status"] == "ok"
        return [{k: (Path(v).name if k == "path" and v else v) for k, v in t.items() if k != "timings_s"}
                for t in report["tiles"]]

    assert tiles(out) == tiles(reference)
    assert read_report(out)["rejected_inputs"] == read_report(reference)["rejected_inputs"]


def _log(out: Path) -> str:
    return (out / "zemosaic.log").read_text(encoding="utf-8")


def test_two_worker_processes_build_the_serial_tiles_and_mosaic_bit_for_bit(tiny_run, tmp_path):
    input_dir, serial = tiny_run
    events = []
    run_mosaic(input_dir, tmp_path / "out", {"max_workers": 2}, progress_callback=events.append)
    _assert_same_outputs(serial, tmp_path / "out")
    log = _log(tmp_path / "out")
    assert "PHASE3_WORKERS engine=processes workers=2 numba_threads=" in log
    for k in range(4):  # the workers' own lines came back to zemosaic.log, tagged with their tile
        assert f"[tile {k}] master tile {k} written: master_tile_00{k}.fits" in log
        assert f"[tile {k}] MT_PIPELINE_FLAGS tile_id={k}" in log
    tagged = {e.message.split("]")[0] + "]" for e in events if e.phase in ("align", "stack")}
    assert tagged == {f"[tile {k}]" for k in range(4)}
    tiles = [e for e in events if e.phase == "tiles"]
    assert tiles[-1].done == tiles[-1].total == 4 and [e.done for e in tiles] == sorted(e.done for e in tiles)


def test_two_tiles_in_threads_by_default_build_the_serial_tiles_and_mosaic_bit_for_bit(tiny_run, tmp_path):
    input_dir, default = tiny_run
    assert "PHASE3_WORKERS engine=threads workers=2" in _log(default)
    serial, threads = tmp_path / "serial", tmp_path / "threads"
    run_mosaic(input_dir, serial, {"memory_budget_mb": 300.0})  # room for one tile at a time
    assert "PHASE3_WORKERS engine=serial workers=1" in _log(serial)
    _assert_same_outputs(serial, default)
    events, threads_seen = [], set()

    def callback(event):
        threads_seen.add(threading.get_ident())
        events.append(event)

    run_mosaic(input_dir, threads, progress_callback=callback)
    _assert_same_outputs(serial, threads)
    assert threads_seen == {threading.get_ident()}  # every event reached the callback in the calling thread
    log = _log(threads)
    for k in range(4):  # each tile's lines tagged with it, whichever thread built it
        assert f"[tile {k}] master tile {k} written: master_tile_00{k}.fits" in log
        assert f"[tile {k}] MT_PIPELINE_FLAGS tile_id={k}" in log
    assert "[tile" not in log.split("PHASE3_WORKERS")[0]  # the lines before Phase 3 are not tagged
    tagged = {e.message.split("]")[0] + "]" for e in events if e.phase in ("align", "stack")}
    assert tagged == {f"[tile {k}]" for k in range(4)}


def test_a_progress_callback_that_raises_stops_both_tile_threads(tiny_run, tmp_path):
    """A script's callback may stop a run by raising: with two tiles in threads the error reaches the caller, the
    other tile stops at its next progress event, and no tile thread nor frame cache is left behind."""
    input_dir, _ = tiny_run

    class Enough(Exception):
        pass

    def callback(event):
        if event.phase == "stack":
            raise Enough

    with pytest.raises(Enough):
        run_mosaic(input_dir, tmp_path / "out", progress_callback=callback)
    assert not [t for t in threading.enumerate() if t.name.startswith("zemosaic-tile")]
    left = [p.name for p in (tmp_path / "out").rglob("zemosaic_*")]
    assert not left, left
    log = _log(tmp_path / "out")
    assert "[tile 0]" in log and "[tile 2]" not in log and "[tile 3]" not in log  # no tile started after it
    assert not list((tmp_path / "out").rglob("master_tile_00[23].fits"))


def test_dask_local_cluster_of_two_workers_builds_the_same_mosaic(tiny_run, tmp_path):
    distributed = pytest.importorskip("distributed")
    input_dir, serial = tiny_run
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        run_mosaic(input_dir, tmp_path / "out", {"scheduler": cluster.scheduler_address})
    _assert_same_outputs(serial, tmp_path / "out")
    log = _log(tmp_path / "out")
    assert "PHASE3_WORKERS engine=dask" in log and "dask: scheduler tcp://" in log and "2 worker(s)" in log
    for k in range(4):  # each tile's records came back with its result
        assert f"[tile {k}] master tile {k} written" in log


def test_scheduler_local_starts_a_local_cluster_for_the_run(tiny_run, tmp_path, capsys):
    pytest.importorskip("distributed")
    input_dir, serial = tiny_run
    code = cli.main(["run", str(input_dir), "-o", str(tmp_path / "out"), "--scheduler", "local", "-j", "2"])
    assert code == cli.EXIT_OK, capsys.readouterr().err
    _assert_same_outputs(serial, tmp_path / "out")
    log = _log(tmp_path / "out")
    assert "LocalCluster of 2 worker process(es)" in log and "(a LocalCluster of this run)" in log


# --- stopping and resuming ----------------------------------------------------------------------------
def _cli(input_dir: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "zemosaic.cli", "run", str(input_dir), "-o", str(out), *extra]


def _start(input_dir: Path, out: Path, *extra: str) -> subprocess.Popen:
    """A CLI run in its own process group (as a terminal runs it: Ctrl-C reaches the run and its workers)."""
    return subprocess.Popen(_cli(input_dir, out, *extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _wait_for(proc: subprocess.Popen, out: Path, *markers: str) -> None:
    log, deadline = out / "zemosaic.log", time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.is_file() else ""
        if all(m in text for m in markers):
            return
        time.sleep(0.005)
    raise AssertionError(f"the run ended or stalled before {markers}")


def _group_gone(pgid: int, timeout: float = 10.0) -> bool:
    """True once no process of the run's process group (the run and its workers) is left."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("how, engine", [("ctrl_c", "--workers=2"), ("sigterm", "--workers=2"),
                                         ("ctrl_c", "--workers=1")])  # worker processes; two tiles in threads
def test_ctrl_c_and_sigterm_stop_the_run_and_its_workers(tiny_run, tmp_path, how, engine):
    input_dir, _ = tiny_run
    out = tmp_path / "out"
    proc = _start(input_dir, out, engine)
    _wait_for(proc, out, "[tile ", "aligned group of")
    if how == "ctrl_c":  # a terminal sends SIGINT to the whole foreground group: the workers ignore it
        os.killpg(proc.pid, signal.SIGINT)
    else:  # SIGTERM to the run only: it stops its workers
        proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    name = "SIGINT" if how == "ctrl_c" else "SIGTERM"
    assert proc.returncode == (130 if how == "ctrl_c" else 143), err
    lines = [line for line in err.splitlines() if line.startswith("zemosaic:")]
    assert len(lines) == 1 and f"interrupted by {name} during phase 3_master_tiles" in lines[0], err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert _group_gone(proc.pid), "a worker process outlived the run"
    report = read_report(out)
    assert report["status"] == "interrupted" and report["interrupted"] == {"signal": name, "phase": "3_master_tiles"}
    left = [p.name for p in out.rglob("*")]
    assert not [n for n in left if n.startswith(("zemosaic_raw", "zemosaic_aligned", "zemosaic_valid", "."))
                or n.endswith(".part")], left


def test_kill_9_takes_the_workers_along_and_resume_gives_the_serial_mosaic(tiny_run, tmp_path):
    input_dir, serial = tiny_run
    out = tmp_path / "out"
    proc = _start(input_dir, out, "--workers", "2")
    manifest = out / "master_tiles" / "master_tile_001.json"  # the run writes it once the worker's tile is back
    deadline = time.monotonic() + 120
    while proc.poll() is None and not manifest.is_file() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, "the run ended before tile 1 was finished"
    os.killpg(proc.pid, 0)  # the run and its workers are there
    proc.kill()
    proc.communicate(timeout=60)
    assert _group_gone(proc.pid), "a worker process outlived the killed run"
    done = subprocess.run(_cli(input_dir, out, "--resume", "--workers", "2"), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert 1 in read_report(out)["resume"]["reused"] and read_report(out)["resume"]["rebuilt"]
    _assert_same_outputs(serial, out)
    run_mosaic(input_dir, out, resume=True)  # the engine settings do not shape a tile: a serial resume reuses all
    assert read_report(out)["resume"] == {"reused": [0, 1, 2, 3], "rebuilt": []}
    _assert_same_outputs(serial, out)


def test_a_script_without_main_guard_gets_a_one_line_hint(tiny_run, tmp_path):
    input_dir, _ = tiny_run
    script = tmp_path / "no_guard.py"
    script.write_text(textwrap.dedent(f"""
        from zemosaic.pipeline.run import run_mosaic
        run_mosaic({str(input_dir)!r}, {str(tmp_path / 'out')!r}, {{"max_workers": 2}})
    """))
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode != 0
    assert "must do so under `if __name__ == '__main__':`" in done.stderr.splitlines()[-1]
    assert read_report(tmp_path / "out")["status"] == "failed"


# --- how many workers ---------------------------------------------------------------------------------
def _tasks(n_tasks: int, n_frames: int = 20, shape=(1080, 1920), cfg=None) -> list[tile_task.TileTask]:
    info = SimpleNamespace(shape=shape, n_channels=3, wcs=None)
    cfg = cfg or resolve_config()
    return [tile_task.TileTask(k, tuple(ScannedFrame(Path(f"f{i}.fit"), info) for i in range(n_frames)), 0, cfg,
                                   Path("tiles")) for k in range(n_tasks)]


def test_worker_count_from_max_workers_cores_and_memory_budget():
    def plan(n_tasks=4, ram=100_000.0, cores=8, **keys):
        cfg = resolve_config(overrides=keys)
        return tile_plan.plan_workers(cfg, _tasks(n_tasks, cfg=cfg), cores=cores, ram_available_mb=ram)

    assert plan().engine == "threads" and plan().workers == 2  # the default: two tiles at once in this process
    assert plan(n_tasks=1).engine == "serial"  # one tile: nothing to overlap
    assert plan(cores=1).engine == "serial" and plan(memory_budget_mb=1500.0).engine == "serial"
    assert plan(use_gpu=True).engine == "serial" and "GPU" in plan(use_gpu=True).reason
    auto = plan(max_workers=0)
    assert (auto.engine, auto.workers, auto.numba_threads) == ("processes", 4, 2)  # 4 tiles on 8 cores
    assert plan(n_tasks=16, max_workers=0).workers == 8
    assert plan(n_tasks=16, max_workers=3).numba_threads == 2
    # a Seestar tile of 20 frames: 250 + 8 x 23.73 + min(768, 20 x 23.73 x 1.5) = ~1152 MB
    per_tile = tile_task.estimate_tile_peak_mb(_tasks(1)[0].members, resolve_config())
    assert 1100 < per_tile < 1200
    capped = plan(n_tasks=16, max_workers=0, memory_budget_mb=2500.0)
    assert capped.workers == 2 and "memory_budget_mb=2500 / ~1152 MB per tile" in capped.reason
    assert plan(n_tasks=16, max_workers=0, ram=4000.0).workers == 2  # auto budget: 3/4 of 4000 MB
    assert plan(n_tasks=16, max_workers=0, memory_budget_mb=500.0).workers == 1  # never below one
    assert plan(max_workers=0, use_gpu=True).workers == 1 and "GPU" in plan(max_workers=0, use_gpu=True).reason
    # auto on small frames: 4 groups of 20 frames of 540 x 960 = 41 Mpx go to workers, of 270 x 480 = 10 Mpx do not
    small = [tile_plan.plan_workers(resolve_config(overrides=["max_workers=0"]), _tasks(4, shape=shape), cores=8,
                                    ram_available_mb=1e5) for shape in ((540, 960), (270, 480))]
    assert [(p.engine, p.workers) for p in small] == [("processes", 4), ("threads", 2)]  # in the run's process
    assert "10.4 Mpx" in small[1].reason
    assert plan(n_tasks=4, max_workers=2).workers == 2  # an explicit count is obeyed whatever the size
    local = plan(max_workers=2, scheduler="local")
    assert (local.engine, local.workers, local.scheduler) == ("dask", 2, "local")
    remote = plan(scheduler="tcp://sched:8786")
    assert (remote.engine, remote.scheduler) == ("dask", "tcp://sched:8786")


def test_engine_settings_are_checked_before_the_run(tmp_path, capsys):
    with pytest.raises(ConfigError, match="neither 'local' nor a scheduler address"):
        tile_plan.check_engine_settings(resolve_config(overrides=["scheduler=myhost"]))
    code = cli.main(["run", str(tmp_path), "-o", str(tmp_path / "out"), "--scheduler", "myhost"])
    assert code == cli.EXIT_BAD_ARGS and "scheduler" in capsys.readouterr().err
    code = cli.main(["run", str(tmp_path), "-o", str(tmp_path / "out"), "--workers", "0"])
    assert code == cli.EXIT_BAD_ARGS and "--workers" in capsys.readouterr().err
    args = cli.build_parser().parse_args(["run", "in", "-o", "out", "-j", "auto", "--scheduler", "local"])
    cfg = cli._resolve_run_config(args)
    assert (cfg.max_workers, cfg.scheduler) == (0, "local")


def test_worker_log_lines_keep_their_tag_in_the_gui():
    from zemosaic.gui.protocol import log_tag

    assert log_tag("zemosaic.pipeline.master_tile", "[tile 3] MT_EDGE_TRIM tile_id=3 nothing") == "MT_EDGE_TRIM"
    assert log_tag("zemosaic.align.group", "[tile 3] aligned group of 3 frames") == "group"


# --- the task travels to the last bit ------------------------------------------------------------------
def test_frame_wcs_travels_to_a_worker_to_the_last_bit():
    from astropy.wcs import Sip

    from zemosaic.solve.refine import tan_wcs

    rng = np.random.default_rng(0)
    wcss = [tan_wcs((rng.uniform(0, 360), rng.uniform(-80, 80)), rng.uniform(0, 2000, 2),
                    rng.normal(size=(2, 2)) * 1e-3, (1080, 1920)) for _ in range(20)]
    sip = tan_wcs((10.1234567890123, 41.98765432109876), (959.87654321, 539.123456789), np.diag([-1.3e-3, 1.3e-3]) +
                  1.234567e-6, (1080, 1920))
    sip.wcs.ctype = ["RA---TAN-SIP", "DEC--TAN-SIP"]
    a = np.zeros((3, 3))
    a[2, 0], a[0, 2], a[1, 1] = 1.2345678901234e-7, -2.3456789012345e-7, 3.4567890123456e-8
    sip.sip = Sip(a, a.T.copy(), None, None, sip.wcs.crpix)
    sip.wcs.set()
    wcss.append(sip)
    astropy_exact = 0
    for wcs in wcss:
        got = tile_task.decode_wcs(pickle.loads(pickle.dumps(tile_task.encode_wcs(wcs))))
        assert tile_task._same_wcs(wcs, got)
        astropy_exact += tile_task._same_wcs(wcs, pickle.loads(pickle.dumps(wcs)))
    assert astropy_exact < len(wcss)  # astropy's own pickle (FITS text) rounds them: why the task has its own
    frame = ScannedFrame(Path("a.fit"), _FrameInfoLike((1080, 1920), 3, wcss[0]))
    task = tile_task.TileTask(0, (frame,), 0, resolve_config(), Path("tiles"))
    back = pickle.loads(pickle.dumps(task))
    assert back.cfg == task.cfg and back.members[0].path == frame.path
    assert tile_task._same_wcs(back.members[0].info.wcs, wcss[0])


def test_readme_documents_the_engines():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "## Parallel and distributed runs" in readme and "zemosaic[cluster]" in readme
    tomllib = pytest.importorskip("tomllib")
    extras = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert [d for d in extras["cluster"] if d.startswith("dask[distributed]")]
    assert [d for d in extras["test"] if d.startswith("dask[distributed]")]  # CI runs the dask test


def test_a_replaced_masker_keeps_the_tiles_in_the_run_process(monkeypatch):
    import lecropper

    def my_masker(*args, **kwargs):
        raise AssertionError("not called here")

    monkeypatch.setattr(lecropper, "mask_altaz_artifacts", my_masker)
    for keys in ([], ["max_workers=0"], ["scheduler=tcp://sched:8786"]):
        plan = tile_plan.plan_workers(resolve_config(overrides=keys), _tasks(4), cores=8, ram_available_mb=1e5)
        assert plan.engine == "serial" and "test_parallel_tiles" in plan.reason and "my_masker" in plan.reason
