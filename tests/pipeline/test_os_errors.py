"""OS errors name the file and the operation; a failure after the mosaic is written still writes the report, or
says why it could not (issue 31 item 4)."""
from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from zemosaic import cli
from zemosaic.io.atomic import atomic_output, os_error_text
from zemosaic.pipeline import mosaic_phases
from zemosaic.pipeline.report import RunReport
from zemosaic.synthetic.generator import SynthSpec, generate_dataset

SPEC = SynthSpec(panels=(2, 1), frames_per_panel=3, width=200, height=300, pixel_scale_arcsec=4.8, seed=4)


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("oserr")
    generate_dataset(root / "in", SPEC)
    return root / "in"


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")  # as a write to an open handle raises it: no file


def test_a_write_to_an_open_handle_is_named_by_its_output(tmp_path):
    target = tmp_path / "product.fits"
    with pytest.raises(OSError) as err:
        with atomic_output(target):
            _disk_full()
    assert err.value.filename == str(target) and err.value.errno == errno.ENOSPC
    assert os_error_text(err.value) == f"{target}: No space left on device (writing)"
    assert list(tmp_path.iterdir()) == []  # no partial file
    assert os_error_text(OSError(errno.EIO, "Input/output error")) == "Input/output error"  # never ": reason"


def test_enospc_after_the_mosaic_names_the_folder_and_phase_and_writes_the_report(session, tmp_path, monkeypatch,
                                                                                     capsys):
    monkeypatch.setattr(mosaic_phases, "_drop_master_tiles_if_asked", _disk_full)  # after mosaic.fits is written
    out = tmp_path / "out"
    code = cli.main(["run", str(session), "-o", str(out)])
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("zemosaic:")]
    assert code == cli.EXIT_OS_ERROR and len(err) == 1
    assert err[0] == (f"zemosaic: error: {out}: No space left on device (during phase 6_outputs, writing in the "
                      "output folder)")
    assert (out / "mosaic.fits").is_file()
    report = json.loads((out / "run_report.json").read_text())
    assert report["status"] == "disk_error" and report["error"] == err[0].removeprefix("zemosaic: error: ")


def test_a_report_that_cannot_be_written_is_said(session, tmp_path, monkeypatch, capsys):
    def no_space_for_the_report(self, path):
        raise OSError(errno.ENOSPC, "No space left on device (writing)", str(path))

    monkeypatch.setattr(RunReport, "write", no_space_for_the_report)
    out = tmp_path / "out"
    code = cli.main(["run", str(session), "-o", str(out)])  # the mosaic is made, its report is not
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("zemosaic:")]
    assert code == cli.EXIT_OS_ERROR and len(err) == 1
    assert f"{out / 'run_report.json'}: No space left on device (writing) (writing the run report; the mosaic " \
           f"was written: {out / 'mosaic.fits'})" in err[0]
    monkeypatch.setattr(mosaic_phases, "_drop_master_tiles_if_asked", _disk_full)  # the run fails too
    code = cli.main(["run", str(session), "-o", str(tmp_path / "out2")])
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("zemosaic:")]
    assert code == cli.EXIT_OS_ERROR and len(err) == 1
    assert err[0].endswith(f"; run report not written: {tmp_path / 'out2' / 'run_report.json'}: No space left on "
                           "device (writing)")
