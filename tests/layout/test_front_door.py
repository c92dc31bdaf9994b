"""The front door: ``import zemosaic`` is light, and its names are the objects of the modules that define them."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

import zemosaic

HEAVY = ("numba", "astropy", "scipy", "reproject", "astroalign", "PIL", "zemosaic.pipeline", "zemosaic.stack",
         "zemosaic.mosaic", "zemosaic.config")


def test_import_zemosaic_loads_none_of_the_package_parts_nor_the_heavy_dependencies():
    code = ("import json, sys, zemosaic; "
            f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({HEAVY!r}))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert json.loads(out.stdout) == []


@pytest.mark.parametrize("name, module", [
    ("inspect", "zemosaic.pipeline.inspect:inspect_frames"),
    ("run_mosaic", "zemosaic.pipeline.run"),
    ("RunResult", "zemosaic.pipeline.run"),
    ("NothingUsableError", "zemosaic.pipeline.run"),
    ("MosaicRefusedError", "zemosaic.pipeline.mosaic_phases"),
    ("mosaic_from_frames", "zemosaic.pipeline.in_memory"),
    ("InMemoryFrame", "zemosaic.pipeline.in_memory"),
    ("MosaicProducts", "zemosaic.pipeline.in_memory"),
    ("ZeMosaicConfig", "zemosaic.config"),
    ("resolve_config", "zemosaic.config"),
    ("ConfigError", "zemosaic.config"),
])
def test_each_name_is_the_object_its_module_defines(name, module):
    import importlib

    module, _, attribute = module.partition(":")
    assert getattr(zemosaic, name) is getattr(importlib.import_module(module), attribute or name)
    assert name in zemosaic.__all__ and name in dir(zemosaic)


def test_an_unknown_name_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'run_mosiac'"):
        zemosaic.run_mosiac  # noqa: B018


def test_the_public_api_is_the_front_door_and_the_version():
    assert set(zemosaic.__all__) == {"__version__", "run_mosaic", "RunResult", "NothingUsableError",
                                     "MosaicRefusedError", "mosaic_from_frames", "InMemoryFrame", "MosaicProducts",
                                     "ZeMosaicConfig", "resolve_config", "ConfigError", "inspect"}
    assert zemosaic.__version__ == zemosaic._version.__version__
