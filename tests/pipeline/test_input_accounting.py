"""Every input file accounted for (issue 15 F): used, rejected or ignored with the reason; compressed FITS read;
--recursive; non-UTF-8 names logged safely. And the rest of D: a disk full inside the mosaic write."""
from __future__ import annotations

import errno
import gzip
import hashlib
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from run_folders import read_report
from zemosaic import cli
from zemosaic.io import fits as fits_io
from zemosaic.pipeline.run import run_mosaic
from zemosaic.synthetic.generator import SynthSpec, generate_dataset

ONE_PANEL = SynthSpec(panels=(1, 1), frames_per_panel=5, width=240, height=360, pixel_scale_arcsec=4.8)
NO_SOLVE = {"plate_solver": "none"}


@pytest.fixture(scope="module")
def panel(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("panel")
    generate_dataset(root / "in", ONE_PANEL)
    return sorted((root / "in").glob("*.fit"))



def _digests(folder: Path) -> dict[bytes, str]:
    return {os.fsencode(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()}


def _messy_folder(frames: list[Path], root: Path) -> dict[str, str]:
    """A folder holding every kind of entry; returns name -> the status expected in input_files."""
    root.mkdir()
    shutil.copy2(frames[0], root / "a.fit")
    shutil.copy2(frames[0], root / "a_copy.fit")  # same bytes under another name
    (root / "b.fits.gz").write_bytes(gzip.compress(frames[1].read_bytes()))
    header, data = fits.getheader(frames[2]), fits.getdata(frames[2])
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data=data, header=header)]).writeto(root / "c.fits.fz")
    shutil.copy2(frames[3], root / "d.fits")
    (root / "e.fits.xz").write_bytes(b"\xfd7zXZ\x00 not really")
    (root / "notes.txt").write_text("seeing 2 arcsec\n")
    (root / "lights").mkdir()
    shutil.copy2(frames[4], root / "lights" / "f.fit")
    os.symlink(root / "gone.fit", root / "link.fit")
    bad_name = os.path.join(os.fsencode(root), b"frame_\xff.fits")
    with open(bad_name, "wb") as handle:
        handle.write(b"not a FITS file at all")
    return {"a.fit": "used", "a_copy.fit": "ignored", "b.fits.gz": "used", "c.fits.fz": "used", "d.fits": "used",
            "e.fits.xz": "ignored", "notes.txt": "ignored", "lights": "ignored", "link.fit": "ignored",
            os.fsdecode(b"frame_\xff.fits"): "rejected"}


def test_compressed_frames_read_like_the_plain_one(panel, tmp_path):
    plain = fits_io.read_frame(panel[0])
    gz = tmp_path / "x.fit.gz"
    gz.write_bytes(gzip.compress(panel[0].read_bytes()))
    fz = tmp_path / "x.fits.fz"
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data=fits.getdata(panel[0]), header=fits.getheader(panel[0]))]
                 ).writeto(fz)
    for path in (gz, fz):
        frame = fits_io.read_frame(path)
        assert np.array_equal(frame.data, plain.data) and frame.info.bayer_pattern == plain.info.bayer_pattern
        assert frame.info.center_radec == pytest.approx(plain.info.center_radec)
    truncated = tmp_path / "t.fits.gz"
    truncated.write_bytes(gz.read_bytes()[:5000])
    with pytest.raises(fits_io.FitsInputError, match="compressed FITS file cannot be read"):
        fits_io.read_frame(truncated)


def test_every_input_file_is_accounted_for(panel, tmp_path, capfd):
    inp = tmp_path / "in"
    expected = _messy_folder(panel, inp)
    before = _digests(inp)
    out = tmp_path / "out"
    result = run_mosaic(inp, out, NO_SOLVE)
    report = read_report(out)
    entries = {Path(e["path"]).name: e for e in report["input_files"]}
    assert {name: e["status"] for name, e in entries.items()} == expected
    assert sorted(entries) == sorted(os.fsdecode(n) for n in os.listdir(os.fsencode(inp)))
    assert all(e["reason"] for e in report["input_files"] if e["status"] != "used")
    reasons = {name: e["reason"] for name, e in entries.items()}
    assert reasons["a_copy.fit"] == f"duplicate of {inp / 'a.fit'} (same bytes; that file is used, once)"
    assert reasons["e.fits.xz"].startswith("compressed FITS in a format not read (.xz)")
    assert reasons["notes.txt"] == "not a FITS file name (.txt)"
    assert reasons["lights"].startswith("subfolder, not scanned") and "--recursive" in reasons["lights"]
    assert reasons["link.fit"].startswith("dangling symbolic link")
    assert "not a FITS file" in reasons[os.fsdecode(b"frame_\xff.fits")]
    assert result.n_frames_used == 4  # a, b.gz, c.fz, d: the duplicate is stacked once
    assert _digests(inp) == before  # inputs untouched
    captured = capfd.readouterr()
    assert "Logging error" not in captured.err + captured.out
    log = (out / "zemosaic.log").read_text(encoding="utf-8")
    assert "Logging error" not in log and "frame_\\udcff.fits: not a FITS file" in log
    assert "input ignored" in log and "duplicate of" in log


def test_frames_only_in_a_subfolder_say_so_and_recursive_uses_them(panel, tmp_path, capsys):
    inp = tmp_path / "in"
    (inp / "lights").mkdir(parents=True)
    for p in panel[:3]:
        shutil.copy2(p, inp / "lights" / p.name)
    (inp / "readme.txt").write_text("x")
    code = cli.main(["run", str(inp), "-o", str(tmp_path / "out"), "--set", "plate_solver=none"])
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == cli.EXIT_NOTHING_USABLE
    assert "subfolders hold 3 (lights/: 3)" in line and "--recursive" in line
    code = cli.main(["run", str(inp), "-o", str(tmp_path / "out2"), "--set", "plate_solver=none", "--recursive"])
    assert code == cli.EXIT_OK
    entries = {Path(e["path"]).name: e["status"] for e in read_report(tmp_path / "out2")["input_files"]}
    assert entries == {**{p.name: "used" for p in panel[:3]}, "readme.txt": "ignored"}


def test_disk_full_inside_the_mosaic_write(panel, tmp_path, monkeypatch, capsys):
    """A real OSError(ENOSPC) raised from inside the write of mosaic.fits: exit 3, one line naming the file,
    no temporary file left, the report written with the reason."""
    inp = tmp_path / "in"
    inp.mkdir()
    for p in panel[:3]:
        shutil.copy2(p, inp / p.name)
    real_writeto = fits.HDUList.writeto

    def full_disk(self, fileobj, *args, **kwargs):
        if any(hdu.name == "WEIGHT" for hdu in self):  # the mosaic (master tiles carry ALPHA and COVERAGE)
            fileobj.write(b"\0" * 2880)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_writeto(self, fileobj, *args, **kwargs)

    monkeypatch.setattr(fits.HDUList, "writeto", full_disk)
    out = tmp_path / "out"
    code = cli.main(["run", str(inp), "-o", str(out), "--set", "plate_solver=none"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == cli.EXIT_OS_ERROR == 3
    assert re.fullmatch(rf"zemosaic: error: {re.escape(str(out / 'mosaic.fits'))}: No space left on device "
                        r"\(writing \d+ MB\)", lines[-1])
    report = read_report(out)
    assert report["status"] == "disk_error" and report["error"].startswith(f"{out / 'mosaic.fits'}: No space")
    assert not (out / "mosaic.fits").exists()
    leftovers = [p.name for p in out.rglob("*") if p.name.endswith(".part") or p.name.startswith("zemosaic_")]
    assert leftovers == []
    assert {e["status"] for e in report["input_files"]} == {"not_used"}


def test_free_space_checked_before_the_assembly_memmaps(tmp_path, monkeypatch):
    import collections

    from zemosaic.mosaic import coadd
    from zemosaic.stack import frame_cache

    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(frame_cache.shutil, "disk_usage", lambda p: usage(1 << 30, 1 << 30, 10 << 20))
    with pytest.raises(OSError) as err:
        coadd._allocate_accumulators((2000, 3000), 3, tmp_path / "mm", 1.0)
    need = (2000 * 3000 * 4 * 4 + (64 << 20)) / 2**20
    assert err.value.errno == errno.ENOSPC and err.value.filename == str(tmp_path / "mm")
    assert f"the assembly memmaps needs {need:.0f} MB, 10 MB free" in err.value.strerror
    assert not list(tmp_path.rglob("zemosaic_acc_*"))
