"""Shared pytest configuration: the ``slow`` marker is skipped unless ``--run-slow`` is given, and a Python
without the project's dependencies stops the session with one line saying how to install them (instead of one
import error per test module)."""
import importlib.util
import os

import pytest

# No compile-ahead child behind the CLI tests (tests/test_cold_start.py switches it on where it is the subject).
os.environ.setdefault("ZEMOSAIC_NUMBA_WARMUP", "0")

_REQUIRED = ("numpy", "scipy", "astropy", "astroalign", "reproject", "numba", "PIL", "zemosaic")


def pytest_configure(config):
    missing = [name for name in _REQUIRED if importlib.util.find_spec(name) is None]
    if missing:
        pytest.exit(f"this Python lacks {', '.join(missing)}: install the project first, "
                    "pip install \".[test]\" (see the README's first lines)", returncode=4)


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False, help="also run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow"):
        return
    skip_slow = pytest.mark.skip(reason="slow test: use --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)
