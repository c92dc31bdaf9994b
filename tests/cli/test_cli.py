"""The zemosaic command line: version, help, one-line errors and exit codes, output-folder guards."""
import subprocess
import sys

import pytest

from zemosaic import cli as zemosaic_cli


def test_version_and_keys(capsys):
    with pytest.raises(SystemExit) as info:
        zemosaic_cli.main(["--version"])
    assert info.value.code == 0
    assert "zemosaic" in capsys.readouterr().out
    assert zemosaic_cli.main(["keys"]) == 0
    assert "altaz_min_coverage_frac = 0.4" in capsys.readouterr().out


def test_bad_set_is_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    code = zemosaic_cli.main(["run", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--set", "altaz_min_cov=3"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "altaz_min_cov" in err[0] and "did you mean" in err[0]


def test_refuses_output_inside_input_and_non_empty_output(tmp_path, capsys):
    inp = tmp_path / "in"
    inp.mkdir()
    assert zemosaic_cli.main(["run", str(inp), "-o", str(inp / "out")]) == 2
    assert "inside the input folder" in capsys.readouterr().err
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("x")
    assert zemosaic_cli.main(["run", str(inp), "-o", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert zemosaic_cli.main(["run", str(tmp_path / "missing"), "-o", str(tmp_path / "o2")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert zemosaic_cli.main(["run", str(out / "old.txt"), "-o", str(tmp_path / "o3")]) == 2
    assert "is a file" in capsys.readouterr().err
    assert zemosaic_cli.main(["run", str(inp), "-o", str(out / "old.txt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is a file" in err[0]


def test_run_mosaic_itself_refuses_to_write_into_its_input(tmp_path):
    import zemosaic_worker

    inp = tmp_path / "in"
    inp.mkdir()
    with pytest.raises(zemosaic_worker.RunFolderError, match="inside the input folder"):
        zemosaic_worker.run_mosaic(inp, inp)
    with pytest.raises(zemosaic_worker.RunFolderError, match="inside the input folder"):
        zemosaic_worker.run_mosaic(inp, inp / "sub")
    assert list(inp.iterdir()) == []


def test_unknown_option_exits_2_via_console_entry():
    proc = subprocess.run([sys.executable, "-m", "zemosaic", "run", "--bogus"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "error" in proc.stderr
