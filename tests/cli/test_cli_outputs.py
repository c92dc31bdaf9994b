"""The command line's output edges: a folder of master tiles given to ``zemosaic run`` without ``--mode``, a reader
that closes the pipe (``zemosaic keys | head -1``), and progress bars with rate and ETA."""
import io
import subprocess
import sys

import numpy as np
from astropy.io import fits

from zemosaic import cli
from zemosaic.progress import ProgressEvent
from zemosaic.synthetic.generator import SynthSpec, generate_dataset


def _tile(path, *, alpha=True, header=None):
    data = np.ones((3, 8, 10), dtype=np.float32)
    hdus = [fits.PrimaryHDU(data, header=fits.Header(header or {}))]
    if alpha:
        hdus.append(fits.ImageHDU(np.ones((8, 10), np.float32), name="ALPHA"))
    fits.HDUList(hdus).writeto(path)


def test_a_folder_of_master_tiles_is_refused_without_mode_with_a_one_line_hint(tmp_path, capsys):
    tiles = tmp_path / "tiles"
    tiles.mkdir()
    _tile(tiles / "master_tile_000.fits")
    code = cli.main(["run", str(tiles), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == cli.EXIT_BAD_ARGS
    assert err.count("\n") == 1 and "--mode existing-master-tiles" in err and "extension ALPHA" in err
    assert not (tmp_path / "out").exists()


def test_a_master_tile_is_recognised_by_its_header_too(tmp_path, capsys):
    tiles = tmp_path / "tiles"
    tiles.mkdir()
    _tile(tiles / "a.fit", alpha=False, header={"MTILEID": 3})
    assert cli.main(["run", str(tiles), "-o", str(tmp_path / "out")]) == cli.EXIT_BAD_ARGS
    assert "header MTILEID" in capsys.readouterr().err


def test_raw_frames_are_not_taken_for_master_tiles(tmp_path):
    generate_dataset(tmp_path / "in", SynthSpec(panels=(1, 1), frames_per_panel=2, width=120, height=90))
    assert cli._a_master_tile_in(tmp_path / "in") is None


def test_output_survives_a_closed_pipe():
    proc = subprocess.Popen([sys.executable, "-m", "zemosaic", "keys"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first line is written (as `| head -1` soon is)
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert err == ""


def test_broken_pipe_in_a_listing_exits_0(monkeypatch):
    class Closed(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", Closed())
    assert cli.main(["keys"]) == cli.EXIT_OK


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_in_a_log_file_is_a_line_every_ten_seconds():
    """Not on a terminal (a pipe, a log file): a long phase still shows it moves (issue 31: never look hung)."""
    stream, now = io.StringIO(), [0.0]
    printer = cli.ProgressPrinter(stream=stream, clock=lambda: now[0])
    with printer:
        for k in range(0, 301):
            now[0] = k * 0.1  # 10 events a second for 30 s
            printer(ProgressEvent("solve", k, 300, f"frame {k}"))
    lines = stream.getvalue().splitlines()
    assert [line.split("]")[1].split()[0] for line in lines] == ["100/300", "200/300", "300/300"]
    assert "ETA 0:20" in lines[0] and "in 0:30" in lines[-1]


def test_progress_bars_show_rate_and_eta():
    stream, now = _Terminal(), [100.0]
    printer = cli.ProgressPrinter(stream=stream, clock=lambda: now[0])
    with printer:
        printer(ProgressEvent("stack", 0, 10, "chunk"))
        now[0] = 104.0
        printer(ProgressEvent("stack", 4, 10, "chunk"))
        assert "4/10 1/s ETA 0:06 chunk" in stream.getvalue().rsplit("\r", 1)[1]
        now[0] = 110.0
        printer(ProgressEvent("stack", 10, 10, "done"))
        assert "10/10 1/s in 0:10 done" in stream.getvalue().rsplit("\r", 1)[1]
        now[0] = 4000.0
        printer(ProgressEvent("align", 1, 1000, ""))  # a new phase starts its own clock
        assert "ETA" not in stream.getvalue().rsplit("\r", 1)[1]
        now[0] = 4010.0
        printer(ProgressEvent("align", 2, 1000, ""))
        assert "0.1/s ETA 2:46:20" in stream.getvalue().rsplit("\r", 1)[1]
