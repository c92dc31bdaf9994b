"""The README's first command: `zemosaic demo` builds the whole mosaic of the built-in dataset."""
import json

import pytest

from zemosaic import cli as zemosaic_cli


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path, capsys):
    assert zemosaic_cli.main(["demo", "-o", str(tmp_path / "demo")]) == 0
    out = tmp_path / "demo" / "output"
    for name in ("mosaic.fits", "mosaic_preview.png", "run_report.json", "zemosaic.log"):
        assert (out / name).is_file()
    report = json.loads((out / "run_report.json").read_text())
    assert len(report["tiles"]) == 4 and not report["rejected_inputs"]
    assert all(t["coverage_used"] for t in report["tiles"])
    assert "look at" in capsys.readouterr().out
