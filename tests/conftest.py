"""Shared pytest configuration and fixtures.

* The ``slow`` marker is skipped unless ``--run-slow`` is given, and a Python without the project's dependencies
  stops the session with one line saying how to install them (instead of one import error per test module).
* The tests live in folders that mirror the package (``tests/stack/`` for ``zemosaic.stack`` ...); the helper
  modules here (``measure``, ``sky_scenes``, ``sky_truth``, ``run_folders``, ``fits_cards``) are imported by name
  from every folder (``pythonpath`` in pyproject.toml). Test file names stay unique across the folders (the
  folders are not packages).
* Session fixtures shared by several folders: ``tiny_frames`` (a small 2x2 synthetic dataset, read-only) and
  ``tiny_run`` (that dataset and the output folder of one uninterrupted default run over it, read-only).
"""
import importlib.util
import os
import signal
from pathlib import Path

import pytest

# No compile-ahead child behind the CLI tests (tests/test_cold_start.py switches it on where it is the subject).
os.environ.setdefault("ZEMOSAIC_NUMBA_WARMUP", "0")

_REQUIRED = ("numpy", "scipy", "astropy", "astroalign", "reproject", "numba", "PIL", "zemosaic")


def pytest_configure(config):
    missing = [name for name in _REQUIRED if importlib.util.find_spec(name) is None]
    if missing:
        pytest.exit(f"this Python lacks {', '.join(missing)}: install the project first, "
                    "pip install \".[test]\" (see the README's first lines)", returncode=4)
    # A suite started in the background by a non-interactive shell (``pytest &``) inherits SIGINT ignored, and so
    # would every run it starts (an ignored signal stays ignored across exec): the Ctrl-C tests need the
    # disposition a terminal gives, Python's own handler here, the default in the runs started.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False, help="also run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow"):
        return
    skip_slow = pytest.mark.skip(reason="slow test: use --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


# The tiny dataset: 4 groups of 3 small frames (2x2 panels), the smallest set a whole run with every phase needs.
# The fixtures import zemosaic inside their bodies: this module must load without the project installed, so that
# pytest_configure can say what is missing in one line.
_TINY_SPEC = dict(panels=(2, 2), frames_per_panel=3, width=240, height=360, pixel_scale_arcsec=4.8)


@pytest.fixture(scope="session")
def tiny_frames(tmp_path_factory) -> Path:
    """The folder of the tiny 2x2 dataset's frames. Read-only: a test that alters frames copies them first
    (``run_folders.copy_frames``)."""
    from zemosaic.synthetic.generator import SynthSpec, generate_dataset

    folder = tmp_path_factory.mktemp("tiny") / "in"
    generate_dataset(folder, SynthSpec(**_TINY_SPEC))
    return folder


@pytest.fixture(scope="session")
def tiny_run(tiny_frames, tmp_path_factory) -> tuple[Path, Path]:
    """The tiny dataset's frames and the output folder of one uninterrupted serial run over them with the
    default settings (the reference that resumed, parallel and distributed runs must reproduce). Read-only."""
    from zemosaic.pipeline.run import run_mosaic

    out = tmp_path_factory.mktemp("tiny_run") / "reference"
    run_mosaic(tiny_frames, out)
    return tiny_frames, out
