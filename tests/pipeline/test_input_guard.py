"""Nothing a run reads is removed or rewritten (issue 31 item 1): the master tiles of an earlier run, assembled again
from ``OUT/master_tiles`` into ``OUT`` with ``--overwrite``, ``--resume`` or neither, through the CLI; the guard's
identities through symbolic links; the refusal of a tiles run whose master-tile folder is its input."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from zemosaic import cli
from zemosaic.pipeline import guard, lock
from zemosaic.pipeline.run import RunFolderError, run_mosaic
from zemosaic.synthetic.generator import SynthSpec, generate_dataset

TINY = SynthSpec(panels=(2, 1), frames_per_panel=3, width=200, height=300, pixel_scale_arcsec=4.8, seed=5)


def _copy_run(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, symlinks=True)


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def earlier_run(tmp_path_factory) -> Path:
    """An output folder of a finished tiles run (2 master tiles with their manifests)."""
    root = tmp_path_factory.mktemp("guard")
    generate_dataset(root / "in", TINY)
    out = root / "out"
    assert cli.main(["run", str(root / "in"), "-o", str(out)]) == cli.EXIT_OK
    assert len(list((out / "master_tiles").glob("master_tile_*.fits"))) == 2
    return out


@pytest.mark.parametrize("flag", ["--overwrite", "--resume", None])
def test_tiles_read_from_out_master_tiles_stay_byte_identical(earlier_run, tmp_path, flag, capfd):
    out = tmp_path / "out"
    _copy_run(earlier_run, out)
    tiles = out / "master_tiles"
    before = _hashes(tiles)
    assert any(n.endswith(".json") for n in before)  # the resume manifests are inputs too
    mosaic_before = (out / "mosaic.fits").read_bytes()
    argv = ["run", str(tiles), "-o", str(out), "--mode", "existing-master-tiles"] + ([flag] if flag else [])
    code = cli.main(argv)
    captured = capfd.readouterr()
    assert _hashes(tiles) == before  # every input tile and manifest, byte for byte
    assert "Traceback" not in captured.err
    if flag is None:  # one clear line, nothing touched
        lines = [ln for ln in captured.err.splitlines() if ln.strip()]
        assert code == cli.EXIT_BAD_ARGS and len(lines) == 1 and "is not empty" in lines[0], captured.err
        assert (out / "mosaic.fits").read_bytes() == mosaic_before
        return
    assert code == cli.EXIT_OK, captured.err
    report = json.loads((out / "run_report.json").read_text())
    assert report["status"] == "ok" and report["mode"] == "existing_master_tiles"
    assert report["mosaic"]["n_tiles"] == 2 and report["mosaic"]["covered_fraction"] > 0.5
    assert (out / "mosaic.fits").stat().st_size > 0
    assert not (out / lock.LOCK_NAME).exists()


def test_overwrite_keeps_the_inputs_and_says_so(earlier_run, tmp_path, caplog):
    out = tmp_path / "out"
    _copy_run(earlier_run, out)
    (out / ".mosaic.fits.ab12.part").write_bytes(b"half")  # a killed run's leftover: removed
    tiles = out / "master_tiles"
    inputs = guard.run_inputs(tiles)
    with caplog.at_level("INFO", logger="zemosaic.pipeline.guard"):
        removed = lock.remove_previous_outputs(out, inputs)
    assert sorted(p.name for p in removed) == sorted([".mosaic.fits.ab12.part", *lock.TOP_OUTPUTS])
    assert sorted(p.name for p in tiles.iterdir()) == sorted(p.name for p in (earlier_run / "master_tiles").iterdir())
    kept = [r.getMessage() for r in caplog.records if "kept (an input of this run)" in r.getMessage()]
    assert len(kept) == 4  # 2 tiles + 2 manifests, each named once
    # without the guard, the same call removes them: the guard is what keeps them
    removed = lock.remove_previous_outputs(out)
    assert len([p for p in removed if p.parent == tiles]) == 4 and not tiles.exists()


def test_inputs_are_recognised_through_links(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "a.fits").write_bytes(b"a")
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    (tmp_path / "elsewhere.fits").write_bytes(b"e")
    (real / "b.fits").symlink_to(tmp_path / "elsewhere.fits")
    (real / "sub").mkdir()
    (real / "sub" / "c.fits").write_bytes(b"c")
    inputs = guard.run_inputs(tmp_path / "link")  # the input folder named through a link
    assert inputs.holds(real / "a.fits") and inputs.holds(real) and inputs.holds(tmp_path / "elsewhere.fits")
    assert not inputs.holds(real / "b.fits")  # the link itself is not the file it reaches: removing it is harmless
    assert not inputs.holds(real / "sub" / "c.fits")  # subfolders are read only with recursive
    assert guard.run_inputs(real, recursive=True).holds(real / "sub" / "c.fits")
    (tmp_path / "empty").mkdir()
    assert inputs.inside(tmp_path) is not None and inputs.inside(tmp_path / "empty") is None
    assert not guard.remove_file(tmp_path / "elsewhere.fits", inputs, "test")
    assert not guard.remove_tree(real, inputs, "test") and (real / "a.fits").exists()
    assert guard.remove_file(real / "b.fits", inputs, "test") and (tmp_path / "elsewhere.fits").exists()


@pytest.mark.parametrize("how", ["same folder", "link to it"])
def test_a_tiles_run_whose_master_tile_folder_is_its_input_is_refused(earlier_run, tmp_path, how):
    out = tmp_path / "out"
    _copy_run(earlier_run, out)
    tiles = out / "master_tiles"
    inp = tiles if how == "same folder" else tmp_path / "tiles_link"
    if how == "link to it":
        inp.symlink_to(tiles, target_is_directory=True)
    before = _hashes(tiles)
    with pytest.raises(RunFolderError, match="writes its master tiles there"):
        run_mosaic(inp, out, {"use_existing_master_tiles_mode": False}, overwrite=True)
    assert _hashes(tiles) == before


def test_the_gui_overwrite_keeps_the_tiles_it_reads(earlier_run, tmp_path):
    """The window's "overwrite earlier outputs" runs ``zemosaic.gui.worker ... --overwrite``: the same guard."""
    out = tmp_path / "out"
    _copy_run(earlier_run, out)
    tiles = out / "master_tiles"
    before = _hashes(tiles)
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"use_existing_master_tiles_mode": True}))
    proc = subprocess.Popen([sys.executable, "-m", "zemosaic.gui.worker", str(tiles), str(out), "--config", str(cfg),
                             "--overwrite"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)  # stdin stays open: its closing would mean the window is gone (cancel)
    stdout = proc.stdout.read() if proc.stdout else ""
    assert proc.wait(timeout=300) == 0, stdout[-2000:]
    if proc.stdin:
        proc.stdin.close()
    messages = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    assert [m for m in messages if m.get("type") == "result"], stdout[-2000:]
    assert _hashes(tiles) == before


def test_inputs_are_recognised_through_a_bind_mount(tmp_path):
    """The input folder reached through a bind mount of OUT/master_tiles (same device and inode numbers): its files
    are kept by --overwrite. Needs the right to mount (root on Linux); skipped elsewhere."""
    out = tmp_path / "out"
    tiles = out / "master_tiles"
    tiles.mkdir(parents=True)
    (tiles / "master_tile_000.fits").write_bytes(b"tile")
    (out / "mosaic.fits").write_bytes(b"old mosaic")
    mounted = tmp_path / "mounted"
    mounted.mkdir()
    if shutil.which("mount") is None or subprocess.run(["mount", "--bind", str(tiles), str(mounted)],
                                                       capture_output=True).returncode != 0:
        pytest.skip("cannot bind-mount here")
    try:
        assert os.path.realpath(mounted) != os.path.realpath(tiles)  # no path comparison can see it
        inputs = guard.run_inputs(mounted)
        removed = lock.remove_previous_outputs(out, inputs)
        assert [p.name for p in removed] == ["mosaic.fits"]
        assert (tiles / "master_tile_000.fits").read_bytes() == b"tile"
    finally:
        subprocess.run(["umount", str(mounted)], check=True)
